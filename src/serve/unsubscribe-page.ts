/** Which unsubscribe page to show. */
export type PageKind = 'confirm' | 'done' | 'already' | 'invalid' | 'error';

const texts: Record<PageKind, { title: string; body: string }> = {
  confirm: { title: 'Unsubscribe from this digest?', body: 'You will get no more digests at this address. Nothing happens until you press the button.' },
  done: { title: 'You are unsubscribed', body: 'You will get no more digests. You can close this page.' },
  already: { title: 'You are unsubscribed', body: 'This address was already unsubscribed. You can close this page.' },
  invalid: { title: 'This link is not valid', body: 'The unsubscribe link is incomplete, altered or too old. Use the link in your most recent digest, or reply to it and ask to be removed.' },
  error: { title: 'Something went wrong', body: 'We could not unsubscribe you just now. Please try the link again in a few minutes, or reply to your digest and ask to be removed.' },
};

/** A small self-contained page (no external resources, no scripts). */
export function unsubscribePage(kind: PageKind, action?: string): string {
  const { title, body } = texts[kind];
  const form =
    kind === 'confirm' && action
      ? `<form method="post" action="${action.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1f4e79;color:#fff;cursor:pointer}</style>
</head><body><h1>${title}</h1><p>${body}</p>${form}</body></html>
`;
}
