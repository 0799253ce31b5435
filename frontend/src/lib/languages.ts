// The languages faster-whisper knows, as the daemon stores them (ISO 639-2/T), with English names.
// Generated from faster_whisper.tokenizer and the daemon's own parse_language (langcodes).
export type Language = [code: string, name: string, iso1: string]

export const LANGUAGES: Language[] = [
  ['afr', "Afrikaans", 'af'],
  ['sqi', "Albanian", 'sq'],
  ['amh', "Amharic", 'am'],
  ['ara', "Arabic", 'ar'],
  ['hye', "Armenian", 'hy'],
  ['asm', "Assamese", 'as'],
  ['aze', "Azerbaijani", 'az'],
  ['ben', "Bangla", 'bn'],
  ['bak', "Bashkir", 'ba'],
  ['eus', "Basque", 'eu'],
  ['bel', "Belarusian", 'be'],
  ['bos', "Bosnian", 'bs'],
  ['bre', "Breton", 'br'],
  ['bul', "Bulgarian", 'bg'],
  ['mya', "Burmese", 'my'],
  ['yue', "Cantonese", 'yue'],
  ['cat', "Catalan", 'ca'],
  ['zho', "Chinese", 'zh'],
  ['hrv', "Croatian", 'hr'],
  ['ces', "Czech", 'cs'],
  ['dan', "Danish", 'da'],
  ['nld', "Dutch", 'nl'],
  ['eng', "English", 'en'],
  ['est', "Estonian", 'et'],
  ['fao', "Faroese", 'fo'],
  ['fil', "Filipino", 'tl'],
  ['fin', "Finnish", 'fi'],
  ['fra', "French", 'fr'],
  ['glg', "Galician", 'gl'],
  ['kat', "Georgian", 'ka'],
  ['deu', "German", 'de'],
  ['ell', "Greek", 'el'],
  ['guj', "Gujarati", 'gu'],
  ['hat', "Haitian Creole", 'ht'],
  ['hau', "Hausa", 'ha'],
  ['haw', "Hawaiian", 'haw'],
  ['heb', "Hebrew", 'he'],
  ['hin', "Hindi", 'hi'],
  ['hun', "Hungarian", 'hu'],
  ['isl', "Icelandic", 'is'],
  ['ind', "Indonesian", 'id'],
  ['ita', "Italian", 'it'],
  ['jpn', "Japanese", 'ja'],
  ['jav', "Javanese", 'jw'],
  ['kan', "Kannada", 'kn'],
  ['kaz', "Kazakh", 'kk'],
  ['khm', "Khmer", 'km'],
  ['kor', "Korean", 'ko'],
  ['lao', "Lao", 'lo'],
  ['lat', "Latin", 'la'],
  ['lav', "Latvian", 'lv'],
  ['lin', "Lingala", 'ln'],
  ['lit', "Lithuanian", 'lt'],
  ['ltz', "Luxembourgish", 'lb'],
  ['mkd', "Macedonian", 'mk'],
  ['mlg', "Malagasy", 'mg'],
  ['msa', "Malay", 'ms'],
  ['mal', "Malayalam", 'ml'],
  ['mlt', "Maltese", 'mt'],
  ['mar', "Marathi", 'mr'],
  ['mon', "Mongolian", 'mn'],
  ['mri', "M\u0101ori", 'mi'],
  ['nep', "Nepali", 'ne'],
  ['nor', "Norwegian", 'no'],
  ['nno', "Norwegian Nynorsk", 'nn'],
  ['oci', "Occitan", 'oc'],
  ['pus', "Pashto", 'ps'],
  ['fas', "Persian", 'fa'],
  ['pol', "Polish", 'pl'],
  ['por', "Portuguese", 'pt'],
  ['pan', "Punjabi", 'pa'],
  ['ron', "Romanian", 'ro'],
  ['rus', "Russian", 'ru'],
  ['san', "Sanskrit", 'sa'],
  ['srp', "Serbian", 'sr'],
  ['sna', "Shona", 'sn'],
  ['snd', "Sindhi", 'sd'],
  ['sin', "Sinhala", 'si'],
  ['slk', "Slovak", 'sk'],
  ['slv', "Slovenian", 'sl'],
  ['som', "Somali", 'so'],
  ['spa', "Spanish", 'es'],
  ['sun', "Sundanese", 'su'],
  ['swa', "Swahili", 'sw'],
  ['swe', "Swedish", 'sv'],
  ['tgk', "Tajik", 'tg'],
  ['tam', "Tamil", 'ta'],
  ['tat', "Tatar", 'tt'],
  ['tel', "Telugu", 'te'],
  ['tha', "Thai", 'th'],
  ['bod', "Tibetan", 'bo'],
  ['tur', "Turkish", 'tr'],
  ['tuk', "Turkmen", 'tk'],
  ['ukr', "Ukrainian", 'uk'],
  ['urd', "Urdu", 'ur'],
  ['uzb', "Uzbek", 'uz'],
  ['vie', "Vietnamese", 'vi'],
  ['cym', "Welsh", 'cy'],
  ['yid', "Yiddish", 'yi'],
  ['yor', "Yoruba", 'yo'],
]

const byCode = new Map<string, Language>()
for (const l of LANGUAGES) {
  byCode.set(l[0], l)
  byCode.set(l[2], l)
}
// ISO 639-2/B spellings the API also accepts.
const BIBLIOGRAPHIC: Record<string, string> = {
  ger: 'deu', fre: 'fra', chi: 'zho', dut: 'nld', gre: 'ell', per: 'fas', cze: 'ces',
  rum: 'ron', slo: 'slk', wel: 'cym', ice: 'isl', arm: 'hye', geo: 'kat', mac: 'mkd',
  may: 'msa', alb: 'sqi', baq: 'eus', bur: 'mya', tib: 'bod',
}

/** "jpn" → "Japanese"; unknown codes come back as they are. */
export function languageName(code: string | null | undefined): string {
  if (!code) return ''
  const c = code.toLowerCase()
  const l = byCode.get(BIBLIOGRAPHIC[c] ?? c)
  return l ? l[1] : code
}

/** A comma-separated list of codes, named: "jpn,kor" → "Japanese, Korean". */
export function languageNames(codes: string | null | undefined): string {
  if (!codes) return ''
  return codes
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map(languageName)
    .join(', ')
}
