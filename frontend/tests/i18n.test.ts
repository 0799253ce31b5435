import { describe, expect, it } from 'vitest'
import { i18n, loadMessages } from '@/i18n'

describe('i18n', () => {
  it('loads one namespace per locale file and resolves keys through it', () => {
    const messages = loadMessages()
    expect(Object.keys(messages)).toContain('en')
    expect(messages.en).toHaveProperty('common')
    expect(i18n.global.t('common.save')).toBe('Save')
  })
})
