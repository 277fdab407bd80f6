/** decodeURIComponent that leaves malformed escapes (a lone `%`) as they are instead of throwing. */
export function decodeUriComponentLenient(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
