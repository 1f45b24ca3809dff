// The sandbox checkout page: register or log in, charge, confirm on return
// from the payment window, show wallet and history, cancel, simulate a
// deposit. Plain browser JavaScript against the public API.
'use strict';

const $ = (id) => document.getElementById(id);
const session = {
  get token() { return sessionStorage.getItem('dpot.token'); },
  set token(value) { value ? sessionStorage.setItem('dpot.token', value) : sessionStorage.removeItem('dpot.token'); },
  get email() { return sessionStorage.getItem('dpot.email') || ''; },
  set email(value) { sessionStorage.setItem('dpot.email', value); },
};
// Danal's method codes, as the window returns them, to the confirm API's.
const CONFIRM_METHOD = { CARD: 'CARD', KAKAOPAY: 'KAKAOPAY', NAVERPAY: 'NAVERPAY', TRANSFER: 'TRANSFER', MOBILE: 'MOBILE', VACCOUNT: 'VIRTUAL_ACCOUNT', PAYCO: 'PAYCO' };

function say(text, kind = 'ok') {
  const box = $('message');
  box.textContent = text;
  box.className = kind;
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path.startsWith('/api/') && !path.startsWith('/api/auth/')) {
    session.token = null;
    show();
  }
  if (!res.ok || data.success === false) throw new Error(data.error ? `${data.error.message} (${data.error.code})` : `HTTP ${res.status}`);
  return data.data ?? data;
}

function show() {
  const signedIn = Boolean(session.token);
  $('auth').hidden = signedIn;
  $('main').hidden = !signedIn;
  $('who').textContent = session.email;
  if (signedIn) refresh().catch((e) => say(e.message, 'error'));
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function button(label, testId, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.testid = testId;
  b.addEventListener('click', () => onClick().catch((e) => say(e.message, 'error')));
  return b;
}

async function refresh() {
  const [wallet, history] = await Promise.all([api('GET', '/api/wallet'), api('GET', '/api/payment/orders?limit=20')]);
  $('balance').textContent = wallet.balance.toLocaleString('en-US');
  $('held').textContent = wallet.heldPoints ? `(${wallet.heldPoints} held by a cancel in progress)` : '';
  const rows = history.orders.map((order) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = `order-${order.orderID}`;
    const left = order.status === 'PartialCanceled' ? ` (${order.balanceAmount.toLocaleString('en-US')} left)` : '';
    tr.append(cell(`${order.orderID.slice(0, 12)}… ${order.method}`), cell(order.status), cell(`${order.totalAmount.toLocaleString('en-US')} KRW${left}`));
    const actions = document.createElement('td');
    if (order.status === 'Paid' || order.status === 'PartialCanceled') {
      actions.append(button('Cancel', 'cancel', async () => {
        const canceled = await api('POST', '/api/payment/cancel', { orderID: order.orderID }, { 'Idempotency-Key': crypto.randomUUID() });
        say(`Order canceled: ${canceled.canceledAmount.toLocaleString('en-US')} KRW refunded, points taken back`);
        await refresh();
      }));
    }
    if (order.status === 'WaitingForDeposit' && order.virtualAccount) {
      const va = order.virtualAccount;
      const info = document.createElement('div');
      info.dataset.testid = 'virtual-account';
      info.textContent = `Pay into ${va.bankName} ${va.accountNumber} (${va.holder}) by ${new Date(va.dueAt).toLocaleString()}`;
      actions.append(info, button('Simulate deposit', 'simulate-deposit', async () => {
        const result = await api('POST', '/sandbox/danal/deposit', { transactionId: order.transactionID });
        say(result.delivered ? 'Deposit received: points credited' : `Deposit refused (the service answered HTTP ${result.replyStatus})`, result.delivered ? 'ok' : 'error');
        await refresh();
      }));
    }
    tr.append(actions);
    return tr;
  });
  $('history').replaceChildren(...rows);
}

$('auth-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const action = event.submitter ? event.submitter.value : 'login';
  const email = $('email').value;
  const password = $('password').value;
  try {
    if (action === 'register') await api('POST', '/api/auth/register', { email, password });
    const login = await api('POST', '/api/auth/login', { email, password });
    session.token = login.accessToken;
    session.email = email;
    say(action === 'register' ? 'Registered and logged in' : 'Logged in');
    show();
  } catch (e) {
    say(e.message, 'error');
  }
});

$('logout').addEventListener('click', () => {
  session.token = null;
  say('Logged out');
  show();
});

$('charge-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const order = await api('POST', '/api/payment/order', { amount: Number($('amount').value), paymentMethod: $('method').value }, { 'Idempotency-Key': crypto.randomUUID() });
    // What a frontend hands the Danal SDK, with this page as where the window returns.
    const params = new URLSearchParams();
    for (const key of ['merchantId', 'paymentsMethod', 'orderId', 'orderName', 'amount', 'userId', 'notiUrl', 'expireDate', 'expireTime']) {
      if (order.checkout[key] !== undefined) params.set(key, String(order.checkout[key]));
    }
    params.set('successUrl', `${location.origin}/?checkout=success`);
    params.set('failUrl', `${location.origin}/?checkout=fail`);
    location.href = `/sandbox/danal/checkout?${params}`;
  } catch (e) {
    say(e.message, 'error');
  }
});

/** Back from the payment window: confirm with the server (never trusting the amount in the URL). */
async function returnFromWindow() {
  const query = new URLSearchParams(location.search);
  const outcome = query.get('checkout');
  if (!outcome) return;
  history.replaceState(null, '', '/');
  if (outcome !== 'success') return say(`Payment not completed: ${query.get('message') || query.get('code') || 'canceled'}`, 'error');
  const result = await api('POST', '/api/payment/confirm', {
    orderID: query.get('orderId'),
    transactionID: query.get('transactionId'),
    method: CONFIRM_METHOD[query.get('method')] || query.get('method'),
  }, { 'Idempotency-Key': `confirm-${query.get('orderId')}-${query.get('transactionId')}` });
  say(result.status === 'Paid'
    ? `Paid: ${result.pointAmount.toLocaleString('en-US')} points credited`
    : 'Virtual account issued: pay into it, then the points are credited');
}

show();
returnFromWindow().then(() => session.token && refresh()).catch((e) => say(e.message, 'error'));
