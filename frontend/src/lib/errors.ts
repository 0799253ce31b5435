// Errors for people: a job's or the API's error code and message become one plain sentence
// (errors.<code> where there is one), and the technical part — the code and the raw text — is
// kept for a small details line. "[Errno 1094995529] Invalid data…", "[media_unreadable] …" and
// "max_line_chars: must be >= 20" never reach a user as they are.

type T = (key: string, named?: Record<string, unknown>) => string
type Te = (key: string) => boolean

export interface ShownError {
  sentence: string
  code: string | null
  raw: string
}

const BRACKET_CODE = /^\s*\[([a-z][a-z0-9_]*)\]\s*/
const ERRNO = /\[Errno -?\d+\]\s*/g
// a setting's or field's code name before the message: max_line_chars: …, scan_rules[0].target: …
const KEY_PREFIX = /^(?=[a-z0-9_.[\]]*[_.[])[a-z][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z][a-z0-9_]*)*:\s+/

/** The code in a message such as "[media_unreadable] …", when the caller has none. */
export function codeOf(message: string | null | undefined): string | null {
  const m = BRACKET_CODE.exec(message ?? '')
  return m ? m[1] : null
}

/** A validation message in words: "must be >= 20, got 5" -> "must be at least 20 (you entered 5)". */
export function plainDetail(text: string): string {
  return text
    .replace(/must be >= ([-\d.]+)/g, 'must be at least $1')
    .replace(/must be <= ([-\d.]+)/g, 'must be at most $1')
    .replace(/, got (.+)$/, ' (you entered $1)')
}

/** The message without its code and errno prefixes, first letter upper case; the setting or field
 * name in front goes too unless `keepField` (a toast has no label beside it to say which). */
export function cleanMessage(message: string, keepField = false): string {
  let text = message.replace(BRACKET_CODE, '').replace(ERRNO, '').trim()
  const field = KEY_PREFIX.test(text)
  if (!keepField) text = text.replace(KEY_PREFIX, '')
  text = plainDetail(text)
  if (keepField && field) return text
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text
}

export function shownError(code: string | null | undefined, message: string | null | undefined, t: T, te: Te): ShownError {
  const raw = (message ?? '').trim()
  const c = code || codeOf(raw)
  const sentence = c && te(`errors.code.${c}`) ? t(`errors.code.${c}`) : cleanMessage(raw) || t('errors.unknown')
  return { sentence, code: c, raw }
}
