// /login: the QR login through the SDK (loaded from /sdk/scangate.js like any
// integrator would), the password form, and the signed-in state with sign-out.
import { createQrLogin } from '@scangate/web-client';
import { $, api, codeOf, errorMessage, onSubmit, oneTabAtATime, say, t } from './page-kit.js';

interface SignedIn {
  accessToken: string;
  user: { displayName: string };
}

const returnTo = document.body.dataset.returnTo ?? null;
const qrView = $('[data-view="qr"]');
const signedInView = $('[data-view="signed-in"]');
const alternatives = $('[data-view="alternatives"]');
const qrBox = $('[data-qr]');
const statusLine = $('[data-status]');
const transportNote = $('[data-transport-note]');
const renewButton = $<HTMLButtonElement>('[data-action="renew"]');
const errorBanner = $('[data-error]');
const passwordForm = $<HTMLFormElement>('[data-form="password"]');
const formError = $('[data-form-error]');

let accessToken: string | null = null;

const login = createQrLogin({
  returnTo: returnTo ?? undefined,
  labels: { qrAlt: t['login.qrAlt'], matchCode: t['login.matchLabel'] },
});
login.on('status', ({ status }) => {
  statusLine.textContent = t[`status.${status}`];
  renewButton.hidden = status !== 'expired' && status !== 'cancelled';
  if (tryHere && status !== 'pending') tryHere.parentElement!.hidden = true;
});
const tryHere = document.querySelector<HTMLAnchorElement>('[data-phone-link]');
login.on('session', (session) => {
  say(errorBanner, null);
  if (tryHere) {
    tryHere.href = session.qrContent;
    tryHere.parentElement!.hidden = false;
  }
});
login.on('transport', (transport) => {
  transportNote.hidden = transport !== 'long-poll';
});
login.on('signedIn', (result) => signedIn(result));
login.on('error', (error) => {
  // Whatever failed (creation, the exchange, a refused long poll), a new code is one click away.
  say(errorBanner, errorMessage(error));
  renewButton.hidden = false;
});

renewButton.addEventListener('click', () => {
  statusLine.tabIndex = -1;
  statusLine.focus(); // the button hides itself: keep the keyboard where the news is
  renewButton.hidden = true;
  statusLine.textContent = t['status.renewing'];
  login.renew().catch(() => undefined); // reported through `error`
});

onSubmit(passwordForm, async ({ login: name, password }) => {
  if (!name || !password) return say(formError, t['error.validation.failed']);
  try {
    const result = await api<SignedIn>('POST', '/api/v1/auth/login', { body: { login: name, password } });
    say(formError, null);
    passwordForm.reset();
    login.stop();
    signedIn(result);
  } catch (error) {
    say(formError, errorMessage(error));
  }
});

$('[data-action="sign-out"]').addEventListener('click', () => void signOut());

function signedIn(result: SignedIn): void {
  accessToken = result.accessToken;
  if (returnTo) {
    location.assign(returnTo);
    return;
  }
  $('[data-signed-in-user]').textContent = result.user.displayName;
  qrView.hidden = true;
  alternatives.hidden = true;
  signedInView.hidden = false;
  say(errorBanner, null);
  $('[data-action="sign-out"]', signedInView).focus();
}

/** A web session from an earlier visit (the refresh cookie), if any. */
async function resume(): Promise<SignedIn | null> {
  try {
    return await oneTabAtATime('scangate-refresh', () => api<SignedIn>('POST', '/api/v1/auth/refresh', { body: {} }));
  } catch {
    return null;
  }
}

async function signOut(): Promise<void> {
  try {
    await api('POST', '/api/v1/auth/logout', { token: accessToken });
  } catch (error) {
    // An access token past its time: renew it once, then sign out.
    if (codeOf(error) === 'auth.unauthenticated') {
      const again = await resume();
      if (again) await api('POST', '/api/v1/auth/logout', { token: again.accessToken }).catch(() => undefined);
    }
  }
  accessToken = null;
  signedInView.hidden = true;
  qrView.hidden = false;
  alternatives.hidden = false;
  statusLine.textContent = t['status.loading'];
  void startQr();
}

async function startQr(): Promise<void> {
  try {
    await login.start(qrBox);
  } catch (error) {
    statusLine.textContent = errorMessage(error);
    renewButton.hidden = false;
  }
}

const earlier = await resume();
if (earlier && !returnTo) signedIn(earlier);
else if (earlier && returnTo) location.assign(returnTo);
else await startQr();
