// One fetch wrapper for every call: sends the API key, asks for it once on 401, and turns every
// failure into an ApiError carrying the API's `detail` (shown in a toast unless the caller opts out).
import { useAuthStore } from '@/stores/auth'
import { useToastStore } from '@/stores/toast'
import { i18n } from '@/i18n'
import { cleanMessage } from '@/lib/errors'

export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
    public code: string | null = null,
  ) {
    super(detail)
  }
}

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | boolean | null | undefined>
  /** Do not toast the error: the caller shows it in place. */
  quiet?: boolean
  signal?: AbortSignal
}

/** FastAPI's `detail` is a string for domain errors and a list for validation errors (422). */
export function detailText(detail: unknown, fallback: string): string {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        const loc = Array.isArray(d?.loc) ? d.loc.filter((p: unknown) => p !== 'body').join('.') : ''
        return loc ? `${loc}: ${d?.msg ?? ''}` : String(d?.msg ?? JSON.stringify(d))
      })
      .join('; ')
  }
  if (detail && typeof detail === 'object') return JSON.stringify(detail)
  return fallback
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

async function send(path: string, opts: RequestOptions, key: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (key) headers['X-Api-Key'] = key
  let body: BodyInit | undefined
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  return fetch(buildUrl(path, opts.query), {
    method: opts.method ?? 'GET',
    headers,
    body,
    signal: opts.signal,
  })
}

function authToast(): string {
  return 'API key required: use “Enter API key” in the header'
}

/** Fetch a file (with the key as a header) and hand it to the browser as a download. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const auth = useAuthStore()
  const headers: Record<string, string> = {}
  if (auth.apiKey) headers['X-Api-Key'] = auth.apiKey
  const res = await fetch(path, { headers })
  if (!res.ok) {
    const err = new ApiError(res.status, `${res.status} ${res.statusText || 'error'}`)
    useToastStore().error(i18n.global.t(res.status === 404 ? 'errors.downloadGone' : 'errors.downloadFailed'))
    throw err
  }
  const disposition = res.headers.get('content-disposition') ?? ''
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
  const name = match ? decodeURIComponent(match[1]) : fallbackName
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const auth = useAuthStore()
  let res: Response
  try {
    res = await send(path, opts, auth.apiKey)
    if (res.status === 401) {
      const key = await auth.requestKey()
      if (key) res = await send(path, opts, key)
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    const err = new ApiError(0, `Cannot reach subtitler (${(e as Error).message})`)
    if (!opts.quiet) useToastStore().error(cleanMessage(err.detail, true))
    throw err
  }
  const text = await res.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  if (!res.ok) {
    const obj = (data && typeof data === 'object' ? data : {}) as { detail?: unknown; code?: string }
    const err = new ApiError(
      res.status,
      detailText(obj.detail, `${res.status} ${res.statusText || 'error'}`),
      obj.code ?? null,
    )
    if (res.status === 401) auth.rejectKey()
    // After the user dismissed the key prompt, one toast says why (not one per call).
    if (!opts.quiet) useToastStore().error(res.status === 401 && auth.dismissed ? authToast() : cleanMessage(err.detail, true))
    throw err
  }
  return data as T
}

export const get = <T>(path: string, query?: RequestOptions['query'], o: RequestOptions = {}) =>
  api<T>(path, { ...o, query })
export const post = <T>(path: string, body?: unknown, o: RequestOptions = {}) =>
  api<T>(path, { ...o, method: 'POST', body })
export const put = <T>(path: string, body?: unknown, o: RequestOptions = {}) =>
  api<T>(path, { ...o, method: 'PUT', body })
export const del = <T>(path: string, query?: RequestOptions['query'], o: RequestOptions = {}) =>
  api<T>(path, { ...o, method: 'DELETE', query })
