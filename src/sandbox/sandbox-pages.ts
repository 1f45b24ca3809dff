// HTML standing in for Danal's payment window, and a landing page for its
// redirects. Forms only, no scripts.
const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#555}
button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}code{word-break:break-all}</style>
</head><body>${body}</body></html>`;

export function checkoutPage(params: Record<string, string>): string {
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join('');
  return page(
    'Danal sandbox checkout',
    `<h1>Danal sandbox</h1>
<p>This page stands in for Danal's payment window. No real money moves.</p>
<dl><dt>Order</dt><dd>${escape(params.orderName ?? '')}</dd>
<dt>Order ID</dt><dd><code>${escape(params.orderId ?? '')}</code></dd>
<dt>Amount</dt><dd>${escape(params.amount ?? '')} KRW</dd>
<dt>Method</dt><dd>${escape(params.paymentsMethod ?? '')}</dd></dl>
<form method="post" action="checkout/approve">${hidden}<button id="approve" type="submit">Approve payment</button></form>
<form method="post" action="checkout/cancel">${hidden}<button id="cancel" type="submit">Cancel</button></form>`,
  );
}

export function resultPage(query: Record<string, string>): string {
  const rows = Object.entries(query)
    .map(([k, v]) => `<dt>${escape(k)}</dt><dd><code>${escape(v)}</code></dd>`)
    .join('');
  return page(
    'Danal sandbox result',
    `<h1>Back from the Danal window</h1>
<p>A real frontend would now call <code>POST /api/payment/confirm</code> with these values.</p><dl>${rows}</dl>`,
  );
}
