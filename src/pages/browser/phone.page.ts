// /m/qr/{id}: the phone's side. Signs in as a *mobile* device session (device
// key in WebCrypto, see device-store.ts), scans as soon as it is signed in,
// shows who is asking, and confirms (device-signed) or declines.
import { $, api, codeOf, errorMessage, onSubmit, oneTabAtATime, say, ScanGateError, showView, t } from './page-kit.js';
import {
  canHoldDeviceKey,
  deviceName,
  loadDevice,
  newDeviceKey,
  saveDevice,
  signConfirm,
  signLogin,
  signScan,
  type DeviceRecord,
} from './device-store.js';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: { displayName: string };
}

interface ScanAnswer {
  requester: {
    ip: string | null;
    location: string | null;
    browser: string | null;
    os: string | null;
    createdAt: string;
  };
  risk?: { networkMatch: boolean | null; level: string; reasons: string[] };
  matchCodeChoices?: string[];
}

const qrId = document.body.dataset.qrId ?? '';
const keyRequired = document.body.dataset.deviceKeyRequired === 'true';
const ask = $('[data-view="ask"]');
const askError = $('[data-ask-error]');
const confirmButton = $<HTMLButtonElement>('[data-action="confirm"]');
const declineButton = $<HTMLButtonElement>('[data-action="decline"]');
const signInForm = $<HTMLFormElement>('[data-form="sign-in"]');

let device: DeviceRecord;
let accessToken: string | null = null;
let picked: string | null = null;
let choices: string[] = [];
/** This page scanned the code: answering it now waits on this phone (see `letGo`). */
let scannedHere = false;
/** This page scanned the code at some point (a later `qr.already_scanned` is then our own earlier session). */
let answeredBefore = false;

function fail(error: unknown, text = errorMessage(error)): void {
  say($('[data-error-text]'), text);
  showView('error');
}

function signedInAs(name: string | null): void {
  $('[data-account-name]').textContent = name ?? '';
  $('[data-account]').hidden = name === null;
}

async function remember(tokens: Tokens): Promise<void> {
  accessToken = tokens.accessToken;
  device.refreshToken = tokens.refreshToken;
  device.displayName = tokens.user.displayName;
  await saveDevice(device);
  signedInAs(tokens.user.displayName);
}

async function forget(): Promise<void> {
  accessToken = null;
  device.refreshToken = null;
  device.displayName = null;
  await saveDevice(device);
  signedInAs(null);
}

/** A new access token from the stored refresh token (rotated: the old one dies). */
async function refresh(): Promise<boolean> {
  if (!device.refreshToken) return false;
  try {
    await oneTabAtATime('scangate-phone-refresh', async () => {
      // Another tab may have rotated the token, or signed in again with a new key: take what it stored.
      const latest = await loadDevice();
      if (latest.refreshToken) device = latest;
      await remember(
        await api<Tokens>('POST', '/api/v1/auth/refresh', { body: { refreshToken: device.refreshToken } }),
      );
    });
    return true;
  } catch (error) {
    if (error instanceof ScanGateError && error.transient) throw error;
    await forget();
    return false;
  }
}

/** An API call as this phone; an expired access token is renewed once. */
async function asPhone<T>(
  method: string,
  path: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<T> {
  try {
    return await api<T>(method, path, { body, token: accessToken, headers });
  } catch (error) {
    if (!(error instanceof ScanGateError) || error.code !== 'auth.unauthenticated' || !(await refresh())) throw error;
    return api<T>(method, path, { body, token: accessToken, headers });
  }
}

/**
 * Before this phone's session goes (sign-out, or a key that no longer matches):
 * decline the code it scanned and has not answered, so the computer can get a
 * new one at once instead of waiting for it to expire.
 */
async function letGo(): Promise<void> {
  if (!scannedHere) return;
  scannedHere = false;
  await asPhone('POST', `/api/v1/qr-sessions/${encodeURIComponent(qrId)}/cancel`, {}).catch(() => undefined);
}

function showSignIn(error: unknown = null): void {
  $('[data-insecure]').hidden = canHoldDeviceKey();
  say($('[data-form-error]'), error ? errorMessage(error) : null);
  showView('sign-in');
  signInForm.querySelector<HTMLInputElement>('input[name="login"]')?.focus();
}

onSubmit(signInForm, async ({ login, password }) => {
  if (!login || !password) return say($('[data-form-error]'), t['error.validation.failed']);
  try {
    // The key this phone held so far proves it a known device (strangers' guesses on the account never lock it out).
    const headers: Record<string, string> = device.privateKey
      ? { 'X-Device-Signature': await signLogin(device.privateKey, device.deviceId, login) }
      : {};
    // A new sign-in gets a new key; the server keeps one session per device id.
    Object.assign(device, canHoldDeviceKey() ? await newDeviceKey() : { privateKey: null, publicJwk: null });
    const publicKey = device.publicJwk ?? undefined;
    await remember(
      await api<Tokens>('POST', '/api/v1/auth/login', {
        body: { login, password, device: { id: device.deviceId, name: deviceName(), platform: 'web', publicKey } },
        headers,
      }),
    );
    signInForm.reset();
    await scan();
  } catch (error) {
    say($('[data-form-error]'), errorMessage(error));
  }
});

function requester(key: string, value: string | null): void {
  $(`[data-requester="${key}"]`).textContent = value || t['phone.ask.unknown'];
}

function pick(code: string): void {
  picked = code;
  for (const button of ask.querySelectorAll<HTMLButtonElement>('[data-match-choice]')) {
    button.setAttribute('aria-pressed', String(button.dataset.matchChoice === code));
  }
  say(askError, null);
}

async function scan(): Promise<void> {
  showView('loading');
  let answer: ScanAnswer;
  try {
    const headers: Record<string, string> = device.privateKey
      ? { 'X-Device-Signature': await signScan(device.privateKey, qrId) }
      : {};
    answer = await asPhone<ScanAnswer>('POST', `/api/v1/qr-sessions/${encodeURIComponent(qrId)}/scan`, {}, headers);
  } catch (error) {
    if (codeOf(error) === 'auth.unauthenticated') return showSignIn();
    // The key this page holds is not the session's (another tab signed in again): sign in anew.
    if (codeOf(error) === 'auth.device_signature_invalid') {
      await forget();
      return showSignIn(error);
    }
    // Scanned by this phone's earlier session (signed in again since): it can no longer answer.
    if (codeOf(error) === 'qr.already_scanned' && answeredBefore) return fail(null, t['phone.rescan']);
    return fail(error);
  }
  scannedHere = true;
  answeredBefore = true;
  const r = answer.requester;
  requester('browser', r.browser);
  requester('os', r.os);
  requester('ip', r.ip);
  requester('location', r.location);
  requester(
    'time',
    new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(
      new Date(r.createdAt),
    ),
  );
  $('[data-risk-warning]').hidden = !(
    answer.risk &&
    (answer.risk.networkMatch === false || answer.risk.level === 'high')
  );
  choices = answer.matchCodeChoices ?? [];
  picked = null;
  const row = $('.choice-row', ask);
  row.replaceChildren(
    ...choices.map((code) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'choice';
      button.dataset.matchChoice = code;
      button.setAttribute('aria-pressed', 'false');
      button.textContent = code;
      button.addEventListener('click', () => pick(code));
      return button;
    }),
  );
  $('[data-choices]').hidden = choices.length === 0;
  $('[data-no-match]').hidden = choices.length > 0;
  say(askError, null);
  showView('ask');
}

async function decide(action: 'confirm' | 'decline'): Promise<void> {
  if (action === 'confirm' && choices.length > 0 && picked === null) return say(askError, t['phone.ask.pickFirst']);
  confirmButton.disabled = declineButton.disabled = true;
  try {
    if (action === 'decline') {
      await asPhone('POST', `/api/v1/qr-sessions/${encodeURIComponent(qrId)}/cancel`, {});
      scannedHere = false;
      say($('[data-done-text]'), t['phone.done.declined']);
    } else {
      const matchCode = picked ?? '';
      const headers: Record<string, string> = device.privateKey
        ? { 'X-Device-Signature': await signConfirm(device.privateKey, qrId, matchCode) }
        : {};
      await asPhone(
        'POST',
        `/api/v1/qr-sessions/${encodeURIComponent(qrId)}/confirm`,
        choices.length > 0 ? { matchCode } : {},
        headers,
      );
      scannedHere = false;
      say($('[data-done-text]'), t['phone.done.confirmed']);
    }
    showView('done');
  } catch (error) {
    if (codeOf(error) === 'auth.device_signature_invalid') {
      await letGo();
      await forget();
      return showSignIn(error);
    }
    if (codeOf(error) === 'auth.unauthenticated') return showSignIn(error);
    scannedHere = false; // the code is answered, expired or cancelled now
    fail(error);
  } finally {
    confirmButton.disabled = declineButton.disabled = false;
  }
}

confirmButton.addEventListener('click', () => void decide('confirm'));
declineButton.addEventListener('click', () => void decide('decline'));
$('[data-action="sign-out"]').addEventListener('click', async () => {
  await letGo();
  await asPhone('POST', '/api/v1/auth/logout', {}).catch(() => undefined);
  await forget();
  showSignIn();
});

async function main(): Promise<void> {
  const presetError = document.body.dataset.qrError;
  if (presetError) return fail(new ScanGateError(presetError, presetError, 404));
  device = await loadDevice();
  signedInAs(device.displayName);
  if (keyRequired && !canHoldDeviceKey()) $('[data-insecure]').hidden = false;
  if (await refresh()) return scan();
  showSignIn();
}

main().catch(fail);
