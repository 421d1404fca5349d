// Text cut to fit a field with a size limit (an Event's message, a condition's, a status field),
// ending in "..." where it was cut, so that a reader sees it is not whole.

/** `text` if it has at most `max` characters, else its first `max - 3` and "...". */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
