const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes plain text for HTML text and attribute values (& < > " ').
 * Feed text arrives decoded exactly once (see Entry.title), so escaping it exactly once here is
 * what makes a literal "&amp;" in a title show as "&amp;" on screen.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * escapeHtml for untrusted feed text that goes into an email before personalization: additionally
 * breaks "%%" so feed text can never look like one of our %%PLACEHOLDER%% tokens
 * ("%&#37;" renders as "%%" but no longer matches the token pattern).
 */
export function escapeFeedHtml(text: string): string {
  return escapeHtml(text).replace(/%%/g, '%&#37;');
}
