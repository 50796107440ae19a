// ccx inbox: a browser view of the emulator's /_emulator/ API.
//
// Security rule for this file: payload data never goes through HTML parsing.
// Every node is built with createElement and textContent; URLs from payloads
// become links or media only when they are http(s).
'use strict';

(function () {
  const API = '/_emulator';
  // The API pages big inboxes: contacts and messages come a page at a time,
  // older messages when the conversation is scrolled to its top.
  const PAGE = 50;
  const CONTACT_PAGE = 100;
  const MAX_SEARCH_LOAD = 5000; // contacts a search loads at most
  const SEEN_KEY = 'ccx-inbox-seen:' + location.host;

  const state = {
    info: { channels: [] },
    contacts: new Map(), // key(channelId, contactId) -> contact
    messages: new Map(), // seq -> message (the loaded pages and what arrived since)
    convs: new Map(), // key -> { next: cursor of older messages or null, loading }
    contactsNext: null, // cursor of the next page of contacts
    contactsLoading: false,
    current: null, // key of the open conversation
    seen: loadSeen(), // key -> { seq: highest incoming seq seen, n: incoming count then }
    requests: [], // newest last
    reqBySeq: new Map(), // seq -> request
    reqSeq: 0,
    reqLoaded: false, // the first /requests answer arrived
    wantReq: null, // #/requests/<seq> to open once it is loaded
    wantAfter: 0, // ... unless a fetch started after this one does not bring it
    reqFetches: 0, // /requests fetches started
    routed: false, // the address was applied once, after the first load
    focusComposer: false, // a click (not a link) opened the conversation
    copied: '', // the last text "Copy as curl" copied (also for tests: clipboards are often off)
    loaded: false,
    pending: [], // SSE events that arrived before the first load finished
    // The customer's side (ccx emulate --provider):
    phone: new Map(), // seq -> phone message
    flowByMid: new Map(), // key(channelId, mId) -> flow id
    readAsked: new Set(), // provider ids a read receipt was asked for
    flow: null, // the flow shown in the requests view
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element; strings among children become text nodes.
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  const ts = (s) => Date.parse(s || '') || 0;
  // plural: "1 finding", "2 findings" (as ui.Plural does on the terminal).
  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : (many || one + 's'));
  const byActivity = (a, b) => ts(b.lastActivity) - ts(a.lastActivity);
  const key = (channelId, contactId) => channelId + '\u0000' + contactId;

  // safeURL returns the URL when it is absolute http(s), else null.
  function safeURL(raw) {
    if (typeof raw !== 'string' || raw === '') return null;
    try {
      const u = new URL(raw);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  function loadSeen() {
    try {
      return JSON.parse(localStorage.getItem(SEEN_KEY) || '{}') || {};
    } catch (_) {
      return {};
    }
  }
  function saveSeen() {
    try {
      localStorage.setItem(SEEN_KEY, JSON.stringify(state.seen));
    } catch (_) { /* private mode: unread counts last for the session */ }
  }

  function fmtTime(ms) {
    if (!ms) return '';
    const d = new Date(ms);
    if (isNaN(d)) return '';
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }
  function timeEl(ms) {
    const d = new Date(ms);
    if (!ms || isNaN(d)) return el('span', {}, '');
    return el('time', { datetime: d.toISOString(), title: d.toString() }, fmtTime(ms));
  }
  function fmtMS(ms) {
    const n = Number(ms);
    if (!isFinite(n)) return '';
    return n < 0.1 ? '<0.1 ms' : n.toFixed(1) + ' ms';
  }
    function pretty(text) {
    if (typeof text !== 'string') return JSON.stringify(text, null, 2);
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_) {
      return text;
    }
  }

  async function getJSON(path) {
    const res = await fetch(API + path, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  // ---- state ----

  function contactName(c) {
    const p = c.contact || {};
    const name = [p.firstName, p.lastName].filter(Boolean).join(' ');
    return name || c.contactId;
  }

  function summary(m) {
    const c = m.message || {};
    switch (c.type) {
      case 'text': return c.text || '';
      case 'attachment': {
        const a = c.attachment || {};
        return '[' + (a.type || 'attachment') + '] ' + (a.fileName || a.url || '');
      }
      case 'location': return '[location] ' + (c.address || (c.latitude + ', ' + c.longitude));
      case 'quick_reply': return '[quick reply] ' + (c.title || '') + ' (' + (c.replies || []).join(' | ') + ')';
      case 'custom_payload': return '[custom payload]';
      default: return '[' + (c.type || m.type || 'message') + ']';
    }
  }

  // upsertContact merges a contact (with its summary from GET /contacts:
  // last, incoming, lastIncomingSeq, or without it from an event).
  function upsertContact(c) {
    const k = key(c.channelId, c.contactId);
    const old = state.contacts.get(k);
    if (old && ts(old.lastActivity) > ts(c.lastActivity)) c.lastActivity = old.lastActivity;
    state.contacts.set(k, Object.assign({}, old || {}, { phoneOnly: false }, c));
  }

  // upsertMessage keeps the most advanced copy of a message (a status event
  // can overtake the state snapshot or the other way round).
  function upsertMessage(m, when) {
    const old = state.messages.get(m.seq);
    if (old && (old.timeline || []).length > (m.timeline || []).length) return false;
    state.messages.set(m.seq, m);
    const k = key(m.channelId, m.contactId);
    if (!state.contacts.has(k)) upsertContact({ channelId: m.channelId, contactId: m.contactId, lastActivity: when });
    else if (when) upsertContact({ channelId: m.channelId, contactId: m.contactId, lastActivity: when });
    // Keep the contact list's summary current without its messages.
    const c = state.contacts.get(k);
    if (!c.last || m.seq >= c.last.seq) c.last = m;
    if (!old && m.direction === 'in' && m.seq > (c.lastIncomingSeq || 0)) {
      c.incoming = (c.incoming || 0) + 1;
      c.lastIncomingSeq = m.seq;
    }
    return true;
  }

  function messagesOf(k) {
    const out = [];
    for (const m of state.messages.values()) if (key(m.channelId, m.contactId) === k) out.push(m);
    out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  // seenOf reads what the user has seen of a contact; older pages stored
  // only the seq.
  function seenOf(k) {
    const v = state.seen[k];
    if (typeof v === 'number') return { seq: v };
    return v && typeof v === 'object' ? v : { seq: 0, n: 0 };
  }

  // unreadOf counts the contact's incoming messages since last seen, from
  // the server's counts (the messages themselves may not be loaded).
  function unreadOf(k) {
    const c = state.contacts.get(k);
    const seen = seenOf(k);
    if (!c || !((c.lastIncomingSeq || 0) > (seen.seq || 0))) return 0;
    if (typeof seen.n === 'number' && typeof c.incoming === 'number') return Math.max(1, c.incoming - seen.n);
    let n = 0;
    for (const m of state.messages.values()) {
      if (m.direction === 'in' && m.seq > seen.seq && key(m.channelId, m.contactId) === k) n++;
    }
    return Math.max(1, n);
  }

  function markSeen(k) {
    const c = state.contacts.get(k);
    if (!c) return;
    const now = { seq: c.lastIncomingSeq || 0, n: c.incoming || 0 };
    const old = seenOf(k);
    if (now.seq !== old.seq || now.n !== old.n) {
      state.seen[k] = now;
      saveSeen();
    }
  }

  // ---- rendering: contacts ----

  function renderContacts() {
    const list = $('contact-list');
    const focusedKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const q = $('contact-search').value.trim().toLowerCase();
    const all = Array.from(state.contacts.values());
    const contacts = q ? all.filter((c) => contactMatches(c, q)) : all;
    contacts.sort(byActivity);
    // A search looks through every contact: load the rest of the list
    // (each page renders again), up to a bound for very big inboxes.
    if (q && state.contactsNext && !state.contactsLoading && all.length < MAX_SEARCH_LOAD) loadMoreContacts();
    const multi = state.info.channels.length > 1;
    const items = contacts.map((c) => {
      const k = key(c.channelId, c.contactId);
      const last = c.last;
      const unread = k === state.current && !document.hidden ? 0 : unreadOf(k);
      const name = contactName(c);
      const lastText = last ? (last.direction === 'out' ? 'You: ' : '') + summary(last)
        : (c.phoneOnly ? 'only on the customer\'s phone: not in the inbox' : 'no message yet');
      const btn = el('button', {
        type: 'button', class: 'contact' + (c.phoneOnly ? ' phone-only' : ''), 'data-key': k,
        'aria-current': k === state.current ? 'true' : null,
        'aria-label': name + (name !== c.contactId ? ', ' + c.contactId : '') +
          (unread ? ', ' + unread + ' unread' : '') + (last ? ', last message: ' + summary(last) : ''),
      },
      el('span', { class: 'contact-name' }, name),
      el('span', { class: 'contact-time' }, last ? fmtTime(last.timestamp) : ''),
      el('span', { class: 'contact-id mono' }, c.contactId + (multi ? ' · ' + c.channelId : '')),
      unread ? el('span', { class: 'unread', 'aria-hidden': 'true' }, String(unread)) : el('span', {}),
      el('span', { class: 'contact-last' }, lastText));
      btn.addEventListener('click', () => {
        state.focusComposer = true;
        if (!navigate(contactRoute(k))) openConversation(k, true);
      });
      return el('li', {}, btn);
    });
    list.replaceChildren(...items);
    $('no-contacts').hidden = all.length > 0;
    $('no-contact-match').hidden = items.length > 0 || all.length === 0;
    $('no-contact-match').textContent = state.contactsNext && !state.contactsLoading
      ? 'No contact among the ' + all.length + ' loaded matches the search; scroll the list to load more.'
      : 'No contact matches the search.';
    if (focusedKey) {
      const again = list.querySelector('button[data-key="' + CSS.escape(focusedKey) + '"]');
      if (again) again.focus();
    }
  }

  // contactMatches: the search finds a contact by name, contact ID or phone.
  function contactMatches(c, q) {
    const p = c.contact || {};
    return [contactName(c), c.contactId, p.phone, p.email].some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
  }

  // ---- rendering: messages ----

  function renderContent(c) {
    const box = el('div', { class: 'content' });
    switch (c.type) {
      case 'text':
        box.append(el('p', { class: 'text' }, c.text || ''));
        break;
      case 'attachment':
        box.append(renderAttachment(c.attachment || {}));
        break;
      case 'location': {
        const dl = el('dl', {},
          el('dt', {}, 'Latitude'), el('dd', { class: 'mono' }, String(c.latitude)),
          el('dt', {}, 'Longitude'), el('dd', { class: 'mono' }, String(c.longitude)));
        if (c.address) dl.append(el('dt', {}, 'Address'), el('dd', {}, c.address));
        box.append(el('div', { class: 'location', role: 'group', 'aria-label': 'Location' },
          el('strong', {}, 'Location'), dl));
        break;
      }
      case 'quick_reply': {
        box.append(el('p', { class: 'text' }, c.title || ''));
        const ul = el('ul', { class: 'chips', 'aria-label': 'Quick replies' });
        for (const r of c.replies || []) ul.append(el('li', {}, r));
        box.append(ul);
        break;
      }
      case 'custom_payload':
        box.append(el('p', { class: 'meta' }, 'Custom payload'), el('pre', {}, el('code', {}, pretty(c.payload))));
        break;
      default:
        box.append(el('pre', {}, el('code', {}, pretty(c))));
    }
    return box;
  }

  function renderAttachment(a) {
    const url = safeURL(a.url);
    const label = a.fileName || a.url || '(no URL)';
    const wrap = el('div', { class: 'attachment' });
    if (!url) {
      wrap.append(el('p', { class: 'unsafe' }, 'Attachment (' + (a.type || '?') + ') with a URL that is not http(s); not linked:'),
        el('code', {}, a.url || '(empty)'));
      return wrap;
    }
    switch (a.type) {
      case 'image':
        wrap.append(el('img', { class: 'media', src: url, alt: a.description || a.fileName || 'image attachment', loading: 'lazy', referrerpolicy: 'no-referrer' }));
        break;
      case 'video':
        wrap.append(el('video', { class: 'media', src: url, controls: true, preload: 'metadata', 'aria-label': label }));
        break;
      case 'audio':
        wrap.append(el('audio', { class: 'media', src: url, controls: true, preload: 'metadata', 'aria-label': label }));
        break;
    }
    wrap.append(el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, (a.type === 'file' || !a.type ? 'File: ' : 'Open ') + label));
    if (a.description) wrap.append(el('p', { class: 'muted' }, a.description));
    return wrap;
  }

  function who(m) {
    if (m.direction === 'in') return 'Contact';
    if (m.origin === 'echo') return 'Echo (sent outside the platform)';
    return 'Agent';
  }

  function renderMessage(m) {
    const li = el('li', { 'data-seq': m.seq, 'data-mid': m.mId || null });
    fillMessage(li, m);
    return li;
  }

  function fillMessage(li, m) {
    li.className = 'msg ' + (m.direction === 'in' ? 'in' : 'out') + (m.origin === 'echo' ? ' echo' : '') + (m.status === 'failed' ? ' failed' : '');
    li.dataset.status = m.status;
    const meta = el('p', { class: 'meta' }, who(m), ' · ', timeEl(m.timestamp), ' · ', m.type || (m.message || {}).type || '');
    const bubble = el('div', { class: 'bubble' }, meta, renderContent(m.message || {}));
    const parts = [bubble];
    if (m.direction === 'out') {
      const tl = el('ol', { class: 'timeline', 'aria-label': 'Status timeline' });
      for (const s of m.timeline || []) {
        tl.append(el('li', { class: 'st-' + s.status + (s.applied ? '' : ' ignored'), title: s.applied ? null : 'recorded, not applied' },
          s.status, ' ', timeEl(s.timestamp), s.reason ? ' (' + s.reason + ')' : '', s.applied ? '' : ' (not applied)'));
      }
      parts.push(tl);
      if (m.status === 'failed') parts.push(el('p', { class: 'reason', role: 'note' }, 'Failed: ' + (m.reason || 'no reason given')));
      if (m.status === 'failed' && m.origin === 'platform') parts.push(retryLine(m));
      if (m.reply && m.reply.httpStatus) {
        parts.push(el('p', { class: 'reply' }, 'Your server answered HTTP ' + m.reply.httpStatus +
          (m.reply.latencyMs !== undefined ? ' in ' + fmtMS(m.reply.latencyMs) : '') +
          (m.mId ? ' · mId ' + m.mId : '')));
      } else if (m.mId && m.origin === 'echo') {
        parts.push(el('p', { class: 'reply' }, 'mId ' + m.mId));
      }
    }
    const flow = m.mId ? state.flowByMid.get(key(m.channelId, m.mId)) : null;
    if (flow) parts.push(el('p', { class: 'reply' }, hopsButton(flow)));
    li.replaceChildren(...parts);
  }

  // retryLine offers to send a failed message again (a new message: the
  // failed one stays failed, as on the platform).
  function retryLine(m) {
    const out = el('span', { class: 'retry-result', role: 'status' });
    const b = el('button', { type: 'button', class: 'secondary retry', 'data-retry': m.seq }, 'Retry');
    b.addEventListener('click', async () => {
      b.disabled = true;
      out.dataset.kind = 'busy';
      out.textContent = 'Sending again…';
      try {
        const res = await postJSON('/messages/' + Number(m.seq) + '/retry');
        const body = await res.json().catch(() => null);
        if (!res.ok) {
          out.dataset.kind = 'error';
          out.textContent = 'Not retried (HTTP ' + res.status + '): ' + (((body || {}).error || {}).message || res.statusText);
          return;
        }
        const nm = body.message;
        upsertMessage(nm, new Date().toISOString());
        applyMessage(nm);
        renderContacts();
        out.dataset.kind = body.ok ? 'ok' : 'error';
        out.textContent = body.ok ? 'Retried: sent as mId ' + nm.mId + '.' : 'Retried, failed again: ' + (nm.reason || 'rejected');
      } catch (e) {
        out.dataset.kind = 'error';
        out.textContent = 'Could not reach the emulator: ' + e.message;
      } finally {
        b.disabled = false;
      }
    });
    return el('p', { class: 'retry-line' }, b, out);
  }

  function postJSON(path, body) {
    return fetch(API + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body || {}),
    });
  }

  function hopsButton(flow) {
    const b = el('button', { type: 'button', class: 'link-button hops', 'data-flow': flow, 'aria-label': 'Every hop of this message (flow ' + flow + ')' }, 'Hops (' + flow + ')');
    b.addEventListener('click', () => showFlow(flow));
    return b;
  }

  function renderConversation() {
    const box = $('messages');
    const k = state.current;
    if (!k || !state.contacts.has(k)) {
      $('conv-title').textContent = 'No contact selected';
      $('conv-sub').textContent = state.contacts.size ? 'Pick a contact.' : '';
      box.replaceChildren();
      return;
    }
    const c = state.contacts.get(k);
    $('conv-title').textContent = contactName(c);
    $('conv-sub').textContent = c.contactId + ' · channel ' + c.channelId;
    // A whole conversation swapped in is not "new messages": keep the live
    // region quiet while it changes.
    box.setAttribute('aria-busy', 'true');
    box.replaceChildren(...olderRow(k), ...messagesOf(k).map(renderMessage));
    box.scrollTop = box.scrollHeight;
    setTimeout(() => box.removeAttribute('aria-busy'), 0);
  }

  // olderRow is the first row of a conversation with older messages on the
  // server: a button (scrolling to the top presses it too).
  function olderRow(k) {
    const cv = state.convs.get(k);
    if (!cv || !cv.next) return [];
    const b = el('button', { type: 'button', class: 'link-button', id: 'load-older' }, cv.loading ? 'Loading older messages…' : 'Load older messages');
    b.addEventListener('click', () => loadOlder(k));
    return [el('li', { class: 'older' }, b)];
  }

  function pageURL(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    return path + '?' + q.toString();
  }

  // loadConversation fetches the newest page of a conversation once.
  async function loadConversation(k) {
    if (state.convs.has(k)) return;
    const c = state.contacts.get(k);
    if (!c || c.phoneOnly) return;
    const cv = { next: null, loading: true };
    state.convs.set(k, cv);
    try {
      const page = await getJSON(pageURL('/messages', { channelId: c.channelId, contactId: c.contactId, limit: PAGE }));
      for (const m of page.messages || []) upsertMessage(m);
      cv.next = page.next || null;
    } catch (e) {
      state.convs.delete(k);
      throw e;
    } finally {
      cv.loading = false;
    }
  }

  // loadOlder prepends the next older page, keeping what is on screen where it is.
  async function loadOlder(k) {
    const cv = state.convs.get(k);
    const c = state.contacts.get(k);
    if (!cv || !cv.next || cv.loading || !c) return;
    cv.loading = true;
    let page;
    try {
      page = await getJSON(pageURL('/messages', { channelId: c.channelId, contactId: c.contactId, limit: PAGE, before: cv.next }));
    } catch (e) {
      cv.loading = false;
      setConn('down', 'Could not load older messages: ' + e.message);
      return;
    }
    cv.loading = false;
    cv.next = page.next || null;
    const fresh = (page.messages || []).filter((m) => upsertMessage(m));
    if (state.current !== k) return;
    const box = $('messages');
    const h = box.scrollHeight;
    const top = box.scrollTop;
    const row = box.querySelector('li.older');
    if (row) row.remove();
    const nodes = [...olderRow(k), ...fresh.sort((a, b) => a.seq - b.seq).map(renderMessage)];
    box.prepend(...nodes);
    box.scrollTop = top + (box.scrollHeight - h);
  }

  // loadMoreContacts appends the next page of the contact list.
  async function loadMoreContacts() {
    if (!state.contactsNext || state.contactsLoading) return;
    state.contactsLoading = true;
    try {
      const page = await getJSON(pageURL('/contacts', { limit: CONTACT_PAGE, before: state.contactsNext }));
      for (const c of page.contacts || []) upsertContact(c);
      state.contactsNext = page.next || null;
      renderContacts();
    } catch (e) {
      setConn('down', 'Could not load more contacts: ' + e.message);
    } finally {
      state.contactsLoading = false;
    }
  }

  // applyMessage updates the open conversation in place: new messages are
  // appended (the role=log region announces them), changed ones refilled.
  function applyMessage(m) {
    if (key(m.channelId, m.contactId) !== state.current) return;
    const box = $('messages');
    const li = box.querySelector('li[data-seq="' + Number(m.seq) + '"]');
    if (li) {
      fillMessage(li, state.messages.get(m.seq));
      return;
    }
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.append(renderMessage(m));
    if (nearBottom) box.scrollTop = box.scrollHeight;
    if (!document.hidden) markSeen(state.current);
  }

  function openConversation(k, focusComposer) {
    state.current = k;
    const c = state.contacts.get(k);
    if (c) {
      $('composer-to').value = c.contactId;
      if (state.info.channels.some((ch) => ch.channelId === c.channelId)) $('composer-channel').value = c.channelId;
    }
    markSeen(k);
    document.body.dataset.pane = 'conversation';
    renderConversation();
    renderPhone();
    renderContacts();
    if (focusComposer) activeField().focus();
    if (!state.convs.has(k)) {
      loadConversation(k).then(() => { if (state.current === k) renderConversation(); })
        .catch((e) => setConn('down', 'Could not load the conversation: ' + e.message));
    }
  }

  // ---- composer ----

  function activeField() {
    const t = $('composer-type').value;
    return { text: $('composer-text'), attachment: $('composer-url'), location: $('composer-lat'),
      quick_reply: $('composer-title'), custom_payload: $('composer-payload') }[t] || $('composer-text');
  }

  function showType() {
    const t = $('composer-type').value;
    for (const fs of document.querySelectorAll('#composer fieldset[data-type]')) fs.hidden = fs.dataset.type !== t;
  }

  // buildMessage returns the channel.Message JSON for the form, or throws
  // an Error naming the field to fix.
  function buildMessage() {
    const t = $('composer-type').value;
    const v = (id) => $(id).value.trim();
    switch (t) {
      case 'text':
        if (!v('composer-text')) throw fieldError('composer-text', 'Type a message first.');
        return { type: 'text', text: $('composer-text').value };
      case 'attachment': {
        if (!v('composer-url')) throw fieldError('composer-url', 'Give the attachment URL.');
        const a = { type: v('composer-kind'), url: v('composer-url') };
        if (v('composer-filename')) a.fileName = v('composer-filename');
        return { type: 'attachment', attachment: a };
      }
      case 'location': {
        const lat = Number(v('composer-lat'));
        const lng = Number(v('composer-lng'));
        if (v('composer-lat') === '' || !isFinite(lat)) throw fieldError('composer-lat', 'Latitude must be a number.');
        if (v('composer-lng') === '' || !isFinite(lng)) throw fieldError('composer-lng', 'Longitude must be a number.');
        const m = { type: 'location', latitude: lat, longitude: lng };
        if (v('composer-address')) m.address = v('composer-address');
        return m;
      }
      case 'quick_reply': {
        const replies = v('composer-replies').split(',').map((s) => s.trim()).filter(Boolean);
        return { type: 'quick_reply', title: v('composer-title'), replies };
      }
      case 'custom_payload': {
        try {
          return { type: 'custom_payload', payload: JSON.parse(v('composer-payload') || 'null') };
        } catch (e) {
          throw fieldError('composer-payload', 'The payload is not valid JSON: ' + e.message);
        }
      }
    }
    throw new Error('unknown type ' + t);
  }

  function fieldError(id, msg) {
    const e = new Error(msg);
    e.field = id;
    return e;
  }

  function showResult(kind, text, findings) {
    const p = $('send-result');
    p.dataset.kind = kind;
    const parts = [text];
    if (findings && findings.length) {
      const ul = el('ul', { class: 'findings' });
      for (const f of findings) ul.append(findingItem(f));
      parts.push(ul);
    }
    p.replaceChildren(...parts.map((x) => (x instanceof Node ? x : document.createTextNode(x))));
  }

  function findingItem(f) {
    const where = (f.path || 'body') + (f.line ? ' (' + f.line + ':' + f.column + ')' : '');
    return el('li', { class: f.severity }, f.severity + ' ' + where + ': ' + f.message + (f.rule ? ' [' + f.rule + ']' : ''));
  }

  function clearComposer() {
    for (const id of ['composer-text', 'composer-url', 'composer-filename', 'composer-lat', 'composer-lng',
      'composer-address', 'composer-title', 'composer-replies', 'composer-payload']) $(id).value = '';
  }

  async function send(ev) {
    ev.preventDefault();
    const btn = $('send');
    if (btn.disabled) return;
    let msg;
    try {
      msg = buildMessage();
    } catch (e) {
      showResult('error', e.message);
      if (e.field) $(e.field).focus();
      return;
    }
    const channelId = $('composer-channel').value || (state.info.channels[0] || {}).channelId || '';
    const contactId = $('composer-to').value.trim();
    btn.disabled = true;
    $('composer').setAttribute('aria-busy', 'true');
    showResult('busy', 'Sending to your server…');
    try {
      const res = await fetch(API + '/channels/' + encodeURIComponent(channelId) + '/send', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ contactId, message: msg }),
      });
      let body = null;
      try { body = await res.json(); } catch (_) { /* not JSON: reported below */ }
      if (!res.ok) {
        const err = (body && body.error) || {};
        showResult('error', 'Not sent (HTTP ' + res.status + '): ' + (err.message || res.statusText), err.findings);
        return;
      }
      const m = body.message;
      upsertMessage(m, new Date().toISOString());
      const k = key(m.channelId, m.contactId);
      if (state.current !== k) openConversation(k, false);
      else { applyMessage(m); renderContacts(); }
      if (body.ok) {
        showResult('ok', 'Sent: your server answered HTTP ' + ((m.reply || {}).httpStatus || 200) + ' with mId ' + m.mId + '.');
        clearComposer();
      } else {
        showResult('error', 'Failed: ' + (m.reason || 'your server rejected the message'), (m.reply || {}).findings);
      }
    } catch (e) {
      showResult('error', 'Could not reach the emulator: ' + e.message);
    } finally {
      btn.disabled = false;
      $('composer').removeAttribute('aria-busy');
    }
  }

  // ---- requests ----

  function headerLines(h) {
    const lines = [];
    for (const [k, vs] of Object.entries(h || {})) for (const v of vs) lines.push(k + ': ' + v);
    return lines.sort().join('\n');
  }

  // describeRequest names what a logged body carries: the contact and the
  // event or message types.
  function describeRequest(r) {
    if (r.kind && r.kind.startsWith('provider.')) {
      return [r.provider, r.what, r.providerId].filter(Boolean).join(' · ');
    }
    let b;
    try { b = JSON.parse(r.body); } catch (_) { return r.what || ''; }
    if (!b || typeof b !== 'object') return '';
    const who = typeof b.contactId === 'string' ? b.contactId : '';
    if (r.kind === 'webhook' && Array.isArray(b.events)) {
      const evs = b.events.map((e) => (e && typeof e === 'object')
        ? String(e.type) + (e.message && e.message.type ? ':' + e.message.type : '') + (e.status && e.status.value ? ':' + e.status.value : '')
        : '?');
      return who + ' · ' + evs.join(', ');
    }
    if (b.message && typeof b.message === 'object') return who + ' · ' + String(b.message.type);
    return who;
  }

  // requestFacts pulls what the filters look at out of a logged request:
  // the contact and the event, message and status types it carries.
  function requestFacts(r) {
    if (r._facts) return r._facts;
    const f = { contact: '', types: [] };
    let b = null;
    try { b = JSON.parse(r.body); } catch (_) { /* not JSON */ }
    if (b && typeof b === 'object') {
      if (typeof b.contactId === 'string') f.contact = b.contactId;
      for (const e of Array.isArray(b.events) ? b.events : []) {
        if (!e || typeof e !== 'object') continue;
        if (e.type) f.types.push(String(e.type));
        if (e.message && e.message.type) f.types.push(String(e.message.type));
        if (e.status && e.status.value) f.types.push(String(e.status.value));
      }
      if (b.message && typeof b.message === 'object' && b.message.type) f.types.push(String(b.message.type));
    }
    // Newer emulators read refused posts too: the contact and events they carried.
    if (!f.contact && typeof r.contactId === 'string') f.contact = r.contactId;
    for (const e of Array.isArray(r.events) ? r.events : []) {
      if (e && e.type && !f.types.includes(String(e.type))) f.types.push(String(e.type));
      if (e && e.status && !f.types.includes(String(e.status))) f.types.push(String(e.status));
    }
    if (r.what) f.types.push(String(r.what));
    if (r.kind) f.types.push(String(r.kind));
    r._facts = f;
    return f;
  }

  const statusClass = (r) => (r.status ? Math.floor(r.status / 100) + 'xx' : 'none');

  function readFilters() {
    return {
      q: $('rf-q').value.trim().toLowerCase(),
      status: $('rf-status').value,
      kind: $('rf-kind').value,
      contact: $('rf-contact').value.trim().toLowerCase(),
      type: $('rf-type').value.trim().toLowerCase(),
      findings: $('rf-findings').checked,
    };
  }

  function requestMatches(r, f) {
    if (f.status && statusClass(r) !== f.status) return false;
    if (f.kind && r.kind !== f.kind) return false;
    if (f.findings && !(r.findings || []).length) return false;
    const facts = requestFacts(r);
    if (f.contact && !facts.contact.toLowerCase().includes(f.contact)) return false;
    if (f.type && !facts.types.some((t) => t.toLowerCase() === f.type || t.toLowerCase().startsWith(f.type))) return false;
    if (f.q) {
      const hay = [r.method, r.url, r.body, r.replyBody, r.error, r.what, r.provider, r.providerId, String(r.status || ''),
        ...(r.findings || []).map((x) => x.message + ' ' + (x.rule || ''))].join('\n').toLowerCase();
      if (!hay.includes(f.q)) return false;
    }
    return true;
  }

  const filterKeys = ['q', 'status', 'kind', 'contact', 'type', 'findings'];
  const filtersActive = (f) => filterKeys.some((k) => f[k]);

  // applyRequestFilters hides the requests the filters leave out and keeps
  // the filters in the address (replaced, not pushed: typing makes no history).
  function applyRequestFilters(updateURL) {
    const f = readFilters();
    const list = $('request-list');
    let shown = 0;
    for (const li of list.children) {
      const r = state.reqBySeq.get(Number(li.dataset.seq));
      const ok = !r || requestMatches(r, f);
      li.hidden = !ok;
      if (ok) shown++;
    }
    const total = list.children.length;
    $('rf-count').textContent = filtersActive(f) ? shown + ' of ' + total + ' requests shown' : '';
    $('no-requests').hidden = total > 0 || !!state.flow;
    if (updateURL && document.body.dataset.view === 'requests' && !state.flow) {
      const r = parseRoute(location.hash);
      const h = requestsRoute(r.request);
      if (h !== location.hash) history.replaceState(null, '', h);
    }
  }

  // addKindOption lists each kind of request seen (new kinds, such as
  // entries a newer emulator logs, appear as they come).
  function addKindOption(kind) {
    const sel = $('rf-kind');
    if (!kind || [...sel.options].some((o) => o.value === kind)) return;
    sel.append(el('option', { value: kind }, HOPS[kind] ? HOPS[kind] + ' (' + kind + ')' : kind));
  }

  function addTypeOptions(r) {
    const dl = $('rf-types');
    for (const t of requestFacts(r).types) {
      if (![...dl.options].some((o) => o.value === t)) dl.append(el('option', { value: t }));
    }
  }

  function filterQuery() {
    const f = readFilters();
    const p = new URLSearchParams();
    if ($('rf-q').value.trim()) p.set('q', $('rf-q').value.trim());
    if (f.status) p.set('status', f.status);
    if (f.kind) p.set('kind', f.kind);
    if ($('rf-contact').value.trim()) p.set('contact', $('rf-contact').value.trim());
    if ($('rf-type').value.trim()) p.set('type', $('rf-type').value.trim());
    if (f.findings) p.set('findings', '1');
    const q = p.toString();
    return q ? '?' + q : '';
  }

  function setFilters(params) {
    $('rf-q').value = params.get('q') || '';
    const st = params.get('status') || '';
    $('rf-status').value = [...$('rf-status').options].some((o) => o.value === st) ? st : '';
    const kind = params.get('kind') || '';
    if (kind) addKindOption(kind);
    $('rf-kind').value = kind;
    $('rf-contact').value = params.get('contact') || '';
    $('rf-type').value = params.get('type') || '';
    $('rf-findings').checked = params.get('findings') === '1';
  }

  // ---- copy and resend ----

  async function copyText(text) {
    state.copied = text;
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      return false; // no clipboard (plain http on another host, headless): the text is shown to select
    }
  }

  function requestActions(r) {
    const result = el('p', { class: 'action-result', role: 'status', 'aria-live': 'polite' });
    const curl = el('pre', { class: 'curl', 'aria-label': 'curl command', hidden: true }, el('code', {}, r.curl || ''));
    const copy = el('button', { type: 'button', class: 'secondary copy-curl' }, 'Copy as curl');
    copy.addEventListener('click', async () => {
      curl.hidden = false;
      const ok = await copyText(r.curl || '');
      result.dataset.kind = 'ok';
      result.textContent = ok ? 'Copied. Set CCX_API_TOKEN to the channel\'s token before running it.'
        : 'Select the command below and copy it. Set CCX_API_TOKEN to the channel\'s token before running it.';
    });
    const acts = el('div', { class: 'req-actions' });
    if (r.kind === 'webhook' || r.kind === 'message') {
      const resend = el('button', { type: 'button', class: 'secondary resend' }, 'Resend');
      resend.addEventListener('click', () => resendRequest(r, resend, result));
      acts.append(resend);
    }
    acts.append(copy, el('a', { href: '#/requests/' + Number(r.seq), class: 'req-link' }, 'Link to #' + Number(r.seq)));
    if (r.resendOf) acts.append(el('span', { class: 'muted' }, 'resend of ', el('a', { href: '#/requests/' + Number(r.resendOf) }, '#' + Number(r.resendOf))));
    acts.append(result);
    return [acts, curl];
  }

  async function resendRequest(r, btn, result) {
    btn.disabled = true;
    result.dataset.kind = 'busy';
    result.textContent = r.kind === 'webhook' ? 'Posting it to the webhook again…' : 'Calling your server again…';
    try {
      const res = await postJSON('/requests/' + Number(r.seq) + '/resend');
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        result.dataset.kind = 'error';
        result.textContent = 'Not resent (HTTP ' + res.status + '): ' + (((body || {}).error || {}).message || res.statusText);
        return;
      }
      const nr = body.request;
      if (body.message) {
        upsertMessage(body.message, new Date().toISOString());
        applyMessage(body.message);
        renderContacts();
      }
      result.dataset.kind = body.ok ? 'ok' : 'error';
      result.replaceChildren('Resent as ', nr ? el('a', { href: '#/requests/' + Number(nr.seq), class: 'resent-link' }, '#' + Number(nr.seq)) : '?',
        nr ? ': ' + (nr.status ? 'HTTP ' + nr.status : 'no answer') + (nr.error ? ' · ' + nr.error : '') : '');
      scheduleRequests();
    } catch (e) {
      result.dataset.kind = 'error';
      result.textContent = 'Could not reach the emulator: ' + e.message;
    } finally {
      btn.disabled = false;
    }
  }

  // HOPS names each kind of request as the hop it is.
  const HOPS = {
    webhook: 'server → platform',
    message: 'platform → server',
    'provider.api': 'server → provider',
    'provider.webhook': 'customer → server',
    'provider.receipt': 'provider → server',
  };

  function renderRequest(r) {
    const inbound = r.kind === 'webhook';
    const ok = r.status >= 200 && r.status < 300 && !r.error;
    let path = r.url;
    try { path = new URL(r.url).pathname; } catch (_) { /* keep it whole */ }
    const flows = el('span', { class: 'flows' });
    for (const f of r.flows || []) {
      const b = el('button', { type: 'button', class: 'link-button', 'data-flow': f, 'aria-label': 'Show every hop of flow ' + f }, f);
      b.addEventListener('click', (e) => { e.preventDefault(); showFlow(f); });
      flows.append(b);
    }
    const sum = el('summary', {},
      el('span', { class: 'muted mono req-seq' }, '#' + Number(r.seq)),
      timeEl(Date.parse(r.time)),
      el('span', { class: 'badge' }, HOPS[r.kind] || r.kind),
      el('span', { class: 'mono' }, r.method + ' ' + path),
      el('span', { class: 'badge ' + (ok ? 'ok' : 'bad') }, r.status ? 'HTTP ' + r.status : 'no answer'),
      el('span', { class: 'req-what' }, describeRequest(r)),
      r.resendOf ? el('span', { class: 'badge' }, 'resend of #' + Number(r.resendOf)) : '',
      r.retry ? el('span', { class: 'badge bad', title: r.retry.pattern || '' }, 'repeat ' + r.retry.attempt) : '',
      r.findings.length ? el('span', { class: 'muted' }, plural(r.findings.length, 'finding')) : '',
      el('span', { class: 'muted' }, fmtMS(r.latencyMs)),
      flows);
    const req = el('div', {},
      el('h3', {}, 'Request'), el('p', { class: 'muted mono' }, r.method + ' ' + r.url),
      el('pre', { 'aria-label': 'Request headers' }, headerLines(r.header)),
      el('pre', { 'aria-label': 'Request body' }, el('code', {}, r.body ? pretty(r.body) : (r.status === 405 ? '(body not read: rejected first)' : '(empty)')) ));
    // A repeated post: which mId, which attempt, and once reported the pattern.
    if (r.retry) {
      req.append(el('p', { class: 'reason retry' }, r.retry.pattern ||
        ('mId ' + r.retry.mId + ' posted again (attempt ' + r.retry.attempt + '; first: request #' + r.retry.firstSeq + ')')));
    }
    if (r.truncated) req.append(el('p', { class: 'muted' }, 'Body cut at 64 KiB.'));
    if (r.findings.length) {
      const ul = el('ul', { class: 'findings' });
      for (const f of r.findings) ul.append(findingItem(f));
      req.append(el('h3', {}, inbound ? 'Validation findings' : 'Reply findings'), ul);
    }
    const rep = el('div', {}, el('h3', {}, 'Reply'));
    if (r.error) rep.append(el('p', { class: 'reason' }, r.error));
    if (r.status) {
      rep.append(el('p', { class: 'muted' }, 'HTTP ' + r.status),
        el('pre', { 'aria-label': 'Reply headers' }, headerLines(r.replyHeader)),
        el('pre', { 'aria-label': 'Reply body' }, el('code', {}, r.replyBody ? pretty(r.replyBody) : '(empty)')));
    } else if (!r.error) {
      rep.append(el('p', { class: 'muted' }, 'No HTTP answer.'));
    }
    const det = el('details', {}, sum, el('div', { class: 'req-body' }, req, rep, ...requestActions(r)));
    det.addEventListener('toggle', () => {
      // A toggle event is queued, not immediate: one the page caused itself
      // (openRequest, following a link) must not move the address, which
      // may have moved on since.
      if (det.dataset.byPage) {
        delete det.dataset.byPage;
        return;
      }
      if (state.flow || !det.closest('#request-list')) return;
      const cur = parseRoute(location.hash);
      if (det.open && cur.request !== r.seq) navigate(requestsRoute(r.seq));
      else if (!det.open && cur.request === r.seq) history.replaceState(null, '', requestsRoute(null));
    });
    return el('li', { 'data-seq': r.seq, 'data-kind': r.kind, 'data-status': statusClass(r), 'data-flows': (r.flows || []).join(' ') || null }, det);
  }

  let reqTimer = null;
  function scheduleRequests() {
    if (reqTimer) return;
    reqTimer = setTimeout(async () => {
      reqTimer = null;
      const fetchNo = ++state.reqFetches;
      try {
        const body = await getJSON('/requests?after=' + state.reqSeq);
        const list = $('request-list');
        for (const r of body.requests) {
          if (r.seq <= state.reqSeq) continue; // a second answer overlapping the first
          state.reqSeq = Math.max(state.reqSeq, r.seq);
          state.requests.push(r);
          state.reqBySeq.set(r.seq, r);
          addKindOption(r.kind);
          addTypeOptions(r);
          list.prepend(renderRequest(r));
        }
        while (list.children.length > 200) {
          state.reqBySeq.delete(Number(list.lastElementChild.dataset.seq));
          list.lastElementChild.remove();
        }
        if (state.requests.length > 400) state.requests.splice(0, state.requests.length - 200);
        state.reqLoaded = true;
        applyRequestFilters(false);
        $('request-count').textContent = list.children.length ? '(' + list.children.length + ')' : '';
        if (state.wantReq !== null) openRequest(state.wantReq, fetchNo);
        if (state.flow && body.requests.length) await renderFlow(false);
      } catch (_) { /* retried on the next event */ }
    }, 100);
  }

  // ---- flows: every hop of one message ----

  function showFlow(id) {
    if (!navigate('#/flows/' + encodeURIComponent(id))) openFlow(id);
  }

  async function openFlow(id) {
    state.flow = id;
    setView('requests');
    $('request-filters').hidden = true;
    $('request-gone').hidden = true;
    await renderFlow(true);
  }

  async function renderFlow(focus) {
    const id = state.flow;
    if (!id) return;
    let rep;
    try {
      rep = await getJSON('/flows/' + encodeURIComponent(id));
    } catch (e) {
      rep = null;
    }
    if (state.flow !== id) return;
    $('flow-view').hidden = false;
    $('request-list').hidden = true;
    $('no-requests').hidden = true;
    if (!rep) {
      $('flow-h').textContent = 'Flow ' + id;
      $('flow-sub').textContent = 'This flow is no longer kept.';
      $('flow-problems').replaceChildren();
      $('flow-hops').replaceChildren();
      return;
    }
    const dir = rep.direction === 'incoming' ? 'customer → agent' : 'agent → customer';
    $('flow-h').textContent = 'Flow ' + rep.flow + ': ' + dir;
    $('flow-sub').textContent = [rep.contactId, rep.provider ? 'via ' + rep.provider : '', rep.mId ? 'mId ' + rep.mId : '',
      rep.providerId && rep.providerId !== rep.mId ? rep.provider + ' id ' + rep.providerId : '',
      plural(rep.hops.length, 'hop') + ', oldest first'].filter(Boolean).join(' · ');
    const probs = rep.problems.length ? rep.problems.map((p) => el('li', {}, p))
      : [el('li', { class: 'fine' }, '✓ Every hop so far worked.')];
    $('flow-problems').replaceChildren(...probs);
    $('flow-hops').replaceChildren(...rep.hops.map(renderRequest));
    if (focus) $('flow-h').focus();
  }

  function closeFlow() {
    state.flow = null;
    $('flow-view').hidden = true;
    $('request-list').hidden = false;
    $('request-filters').hidden = false;
    $('no-requests').hidden = $('request-list').children.length > 0;
  }

  // ---- links: the view is in the address ----
  //
  // #/inbox, #/contacts/<contactId>[?channel=<channelId>], #/requests[?filters],
  // #/requests/<seq>[?filters], #/flows/<flow>. Moving around sets the hash,
  // so back and forward walk the views; the hashchange handler shows them.

  function parseRoute(hash) {
    const raw = (hash || '').replace(/^#\/?/, '');
    const qi = raw.indexOf('?');
    const path = qi < 0 ? raw : raw.slice(0, qi);
    const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
    const parts = path.split('/').map((p) => { try { return decodeURIComponent(p); } catch (_) { return p; } });
    const r = { view: 'inbox', contact: null, channel: params.get('channel'), request: null, flow: null, params };
    switch (parts[0]) {
      case 'contacts':
        if (parts[1]) r.contact = parts.slice(1).join('/');
        break;
      case 'requests': {
        r.view = 'requests';
        const n = Number(parts[1]);
        if (parts[1] && Number.isInteger(n) && n > 0) r.request = n;
        break;
      }
      case 'flows':
        r.view = 'requests';
        if (parts[1]) r.flow = parts[1];
        break;
    }
    return r;
  }

  function contactRoute(k) {
    const c = state.contacts.get(k);
    if (!c) return '#/inbox';
    const multi = state.info.channels.length > 1;
    return '#/contacts/' + encodeURIComponent(c.contactId) + (multi ? '?channel=' + encodeURIComponent(c.channelId) : '');
  }

  function requestsRoute(seq) {
    return '#/requests' + (seq ? '/' + Number(seq) : '') + filterQuery();
  }

  // navigate moves to a view through the address; false when already there.
  function navigate(hash) {
    if (location.hash === hash) return false;
    location.hash = hash;
    return true;
  }

  // ensureContact finds the contact a link names, loading more pages of
  // the contact list (100 at a time) until it is there or the list ends.
  async function ensureContact(contactId, channelId) {
    let k = findContactKey(contactId, channelId);
    for (let i = 0; !k && state.contactsNext && i < 500; i++) {
      if (state.contactsLoading) await new Promise((r) => setTimeout(r, 20));
      else await loadMoreContacts();
      k = findContactKey(contactId, channelId);
    }
    return k;
  }

  function findContactKey(contactId, channelId) {
    if (channelId) return state.contacts.has(key(channelId, contactId)) ? key(channelId, contactId) : null;
    for (const [k, c] of state.contacts) if (c.contactId === contactId) return k;
    return null;
  }

  function applyRoute() {
    // Tests (and anyone scripting the page) wait for the address to be applied.
    document.body.dataset.route = location.hash;
    const r = parseRoute(location.hash);
    if (r.view === 'requests') {
      setFilters(r.params);
      if (r.flow) {
        openFlow(r.flow);
        return;
      }
      if (state.flow) closeFlow();
      setView('requests');
      state.wantReq = state.reqLoaded ? null : r.request;
      state.wantAfter = 0;
      if (r.request !== null && state.reqLoaded) openRequest(r.request);
      else {
        $('request-gone').hidden = true;
        for (const li of $('request-list').querySelectorAll('li.target')) li.classList.remove('target');
      }
      applyRequestFilters(false);
      return;
    }
    if (state.flow) closeFlow();
    setView('inbox');
    if (r.contact !== null) {
      const k = findContactKey(r.contact, r.channel);
      if (k) {
        const focus = !!state.focusComposer;
        state.focusComposer = false;
        if (state.current !== k || document.body.dataset.pane !== 'conversation') openConversation(k, focus);
        else if (focus) activeField().focus();
      } else if (state.contactsNext) {
        ensureContact(r.contact, r.channel).then((found) => {
          if (parseRoute(location.hash).contact !== r.contact) return;
          if (found) applyRoute();
          else notInInbox(r.contact);
        });
      } else {
        notInInbox(r.contact);
      }
    } else {
      document.body.dataset.pane = 'list'; // phones: the contact list (wide screens show both)
    }
  }

  function notInInbox(contactId) {
    $('conv-title').textContent = 'No contact ' + contactId;
    $('conv-sub').textContent = 'This contact is not in the inbox (any more).';
  }

  // openRequest shows one request: open, marked, scrolled to. A request the
  // log no longer keeps (or one the filters hide) is said so.
  function openRequest(seq, doneFetch) {
    const list = $('request-list');
    for (const li of list.querySelectorAll('li.target')) li.classList.remove('target');
    const li = list.querySelector('li[data-seq="' + Number(seq) + '"]');
    const gone = $('request-gone');
    if (!li) {
      if (!state.reqLoaded) return;
      if (seq > state.reqSeq) {
        // Perhaps logged but not fetched yet (a resend's new request): a
        // fetch that starts from now on tells.
        if (state.wantReq !== seq) {
          state.wantReq = seq;
          state.wantAfter = state.reqFetches;
          scheduleRequests();
          return;
        }
        if (doneFetch === undefined || doneFetch <= state.wantAfter) return;
      }
      state.wantReq = null;
      gone.hidden = false;
      gone.textContent = 'Request #' + Number(seq) + ' is no longer kept (the log keeps the last 200).';
      return;
    }
    state.wantReq = null;
    gone.hidden = true;
    if (li.hidden) {
      gone.hidden = false;
      gone.textContent = 'Request #' + Number(seq) + ' is hidden by the filters.';
    }
    li.classList.add('target');
    const det = li.querySelector('details');
    if (!det.open) {
      det.dataset.byPage = '1';
      det.open = true;
    }
    li.scrollIntoView({ block: 'nearest' });
  }

  // ---- the customer's phone (ccx emulate --provider) ----

  const hasProviders = () => (state.info.providers || []).length > 0;
  const providersOf = (channelId) => (state.info.providers || []).filter((p) => p.channelId === channelId);

  // phoneRank orders copies of one phone message: more receipts, an answer
  // from the server and a platform mId each make a copy more advanced.
  const phoneRank = (pm) => (pm.receipts || []).length * 4 + (pm.webhook ? 2 : 0) + (pm.mId ? 1 : 0);

  function upsertPhone(pm) {
    const old = state.phone.get(pm.seq);
    if (old && phoneRank(old) > phoneRank(pm)) return false;
    state.phone.set(pm.seq, pm);
    if (pm.mId) state.flowByMid.set(key(pm.channelId, pm.mId), pm.flow);
    const k = key(pm.channelId, pm.contactId);
    if (!state.contacts.has(k)) {
      state.contacts.set(k, { channelId: pm.channelId, contactId: pm.contactId, lastActivity: pm.time, phoneOnly: true });
    }
    return true;
  }

  function phoneOf(k) {
    const out = [];
    for (const pm of state.phone.values()) if (key(pm.channelId, pm.contactId) === k) out.push(pm);
    out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  function businessNumber(p) {
    const c = (p.credentials || []).find((x) => /FROM|NUMBER|SENDER/.test(x.name));
    return c ? c.value : '';
  }

  function currentProvider() {
    const name = $('phone-provider').value;
    return (state.info.providers || []).find((p) => p.name === name) || (state.info.providers || [])[0] || null;
  }

  function tickFor(pm) {
    const rs = (pm.receipts || []).filter((r) => !r.error);
    let best = '';
    const rank = { sent: 1, delivered: 2, read: 3 };
    for (const r of rs) {
      if (r.status === 'failed') return 'failed';
      if ((rank[r.status] || 0) > (rank[best] || 0)) best = r.status;
    }
    return best;
  }

  function renderPhoneMessage(pm) {
    const li = el('li', { 'data-seq': pm.seq, 'data-flow': pm.flow, 'data-provider-id': pm.providerId || null });
    fillPhoneMessage(li, pm);
    return li;
  }

  function fillPhoneMessage(li, pm) {
    const refused = pm.direction === 'business' ? !(pm.api && pm.api.accepted) : !!(pm.webhook && pm.webhook.error);
    li.className = 'pm ' + pm.direction + (refused ? ' refused' : '');
    const bubble = el('div', { class: 'bubble' },
      el('p', { class: 'meta' }, pm.direction === 'customer' ? 'You (the customer)' : 'Business', ' · ', timeEl(Date.parse(pm.time)), ' · via ', pm.provider),
      renderContent(pm.message || {}));
    const parts = [bubble];
    const line = el('p', { class: 'pm-line' });
    if (pm.direction === 'customer') {
      const w = pm.webhook;
      if (!w) line.append(el('span', {}, 'posting to your server…'));
      else if (w.error) line.append(el('span', { class: 'bad' }, '✗ ' + w.error));
      else line.append(el('span', { class: 'good' }, '✓ your server answered HTTP ' + w.status));
      line.append(pm.mId ? el('span', { class: 'good', 'data-in-inbox': 'true' }, '✓ in the inbox')
        : el('span', { class: w && !w.error ? 'bad' : '' }, 'not in the inbox yet'));
    } else if (refused) {
      line.append(el('span', { class: 'bad' }, '✗ ' + pm.provider + ' refused it: HTTP ' + (pm.api || {}).status + ' ' + ((pm.api || {}).error || '')),
        el('span', {}, 'the customer got nothing'));
    } else {
      const t = tickFor(pm);
      const ticks = { '': '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '✗' }[t];
      line.append(el('span', { class: 'ticks', 'data-status': t || 'pending', 'aria-label': t ? 'status ' + t : 'no receipt yet' }, ticks),
        el('span', { class: 'mono' }, pm.providerId || ''));
      const rs = el('ul', { class: 'receipts', 'aria-label': 'Receipts the provider posted to your server' });
      for (const r of pm.receipts || []) {
        rs.append(el('li', { class: (r.error ? 'bad ' : '') + 'rc-' + r.status },
          r.status + (r.error ? ': ' + r.error : ' → your server ' + r.httpStatus)));
      }
      parts.push(line);
      if ((pm.receipts || []).length) parts.push(rs);
      const p = (state.info.providers || []).find((x) => x.name === pm.provider);
      const acts = el('p', { class: 'pm-line' });
      if (p && p.receipts) {
        const has = (st) => (pm.receipts || []).some((r) => r.status === st && !r.error);
        if (!has('read') && !has('failed')) acts.append(receiptButton(pm, 'read', 'Mark read'));
        if (!has('failed') && !has('read')) acts.append(receiptButton(pm, 'failed', 'Fail delivery'));
      }
      acts.append(hopsButton(pm.flow));
      parts.push(acts);
      li.replaceChildren(...parts);
      return;
    }
    line.append(hopsButton(pm.flow));
    parts.push(line);
    li.replaceChildren(...parts);
  }

  function receiptButton(pm, status, label) {
    const b = el('button', { type: 'button', class: 'link-button', 'data-receipt': status }, label);
    b.addEventListener('click', () => fireReceipt(pm, status));
    return b;
  }

  async function fireReceipt(pm, status) {
    state.readAsked.add(pm.providerId + '\u0000' + status);
    try {
      const res = await fetch(API + '/providers/' + encodeURIComponent(pm.provider) + '/receipt', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ providerId: pm.providerId, status }),
      });
      const body = await res.json().catch(() => null);
      if (body && body.phone) applyPhone(body.phone);
      if (!res.ok && status !== 'read') showPhoneResult('error', 'Receipt not posted (HTTP ' + res.status + '): ' + (((body || {}).error || {}).message || res.statusText));
    } catch (e) {
      showPhoneResult('error', 'Could not reach the emulator: ' + e.message);
    }
  }

  function phoneVisible() {
    const p = $('phone');
    return !p.hidden && getComputedStyle(p).display !== 'none' && !document.hidden;
  }

  // maybeRead plays a customer who reads what the phone shows: a delivered
  // message gets a read receipt (once), like a messaging app's blue ticks.
  function maybeRead() {
    if (!$('phone-autoread').checked || !state.current || !phoneVisible()) return;
    for (const pm of phoneOf(state.current)) {
      if (pm.direction !== 'business' || !pm.providerId) continue;
      const p = (state.info.providers || []).find((x) => x.name === pm.provider);
      if (!p || !p.receipts) continue;
      const rs = pm.receipts || [];
      if (!rs.some((r) => r.status === 'delivered' && !r.error) || rs.some((r) => r.status === 'read' || r.status === 'failed')) continue;
      if (state.readAsked.has(pm.providerId + '\u0000read')) continue;
      fireReceipt(pm, 'read');
    }
  }

  function renderPhoneSettings() {
    const box = $('phone-settings-body');
    const parts = [];
    for (const p of state.info.providers || []) {
      const dl = el('dl', { class: 'kv' },
        el('dt', {}, 'Provider base URL'), el('dd', {}, p.baseUrl),
        el('dt', {}, 'Customer messages to'), el('dd', {}, p.webhookUrl || '(none: --provider-webhook ' + p.name + '=URL)'));
      if (p.statusUrl) dl.append(el('dt', {}, 'Receipts (no callback named) to'), el('dd', {}, p.statusUrl));
      for (const c of p.credentials || []) dl.append(el('dt', {}, c.name), el('dd', {}, c.value + (c.secret ? ' (redacted)' : '')));
      if (p.envFile) {
        dl.append(el('dt', {}, 'Env file'), el('dd', {}, p.envFile),
          el('dt', {}, 'Run'), el('dd', {}, 'ccx relay --provider ' + p.name + ' --local --credentials ' + p.envFile));
      }
      parts.push(el('h4', {}, p.name + ' (channel ' + p.channelId + ')'), dl);
    }
    parts.push(el('p', { class: 'muted' }, 'Secret values are never shown here; read them from the env file (mode 0600), or start ccx emulate with --show-token.'));
    box.replaceChildren(...parts);
  }

  function renderPhone() {
    const on = hasProviders();
    document.body.dataset.providers = on ? 'on' : 'off';
    $('phone').hidden = !on;
    if (!on) return;
    const k = state.current;
    const c = k ? state.contacts.get(k) : null;
    const ch = c ? c.channelId : ((state.info.channels || [])[0] || {}).channelId;
    const provs = providersOf(ch).length ? providersOf(ch) : state.info.providers;
    const sel = $('phone-provider');
    const keep = sel.value;
    sel.replaceChildren(...provs.map((p) => el('option', { value: p.name }, p.name)));
    if (provs.some((p) => p.name === keep)) sel.value = keep;
    $('phone-provider-label').hidden = provs.length < 2;
    const p = currentProvider();
    const num = p ? businessNumber(p) : '';
    if (c) {
      $('phone-sub').textContent = c.contactId + ' ↔ ' + (num || 'the business') + ' via ' + provs.map((x) => x.name).join(', ');
      if (document.activeElement !== $('phone-from')) $('phone-from').value = c.contactId;
    } else {
      $('phone-sub').textContent = 'A new customer: type their address in From.';
    }
    const box = $('phone-messages');
    const items = c ? phoneOf(k).map(renderPhoneMessage) : [];
    box.replaceChildren(...items);
    $('phone-empty').hidden = items.length > 0;
    box.parentElement.scrollTop = box.parentElement.scrollHeight;
    maybeRead();
  }

  function applyPhone(pm) {
    if (!upsertPhone(pm)) return;
    const cur = state.phone.get(pm.seq);
    // Agent bubbles of this message learn their flow.
    if (cur.mId) {
      const li = document.querySelector('#messages li[data-mid="' + CSS.escape(cur.mId) + '"]');
      const m = li ? state.messages.get(Number(li.dataset.seq)) : null;
      if (m) fillMessage(li, m);
    }
    if (key(cur.channelId, cur.contactId) !== state.current) {
      renderContacts();
      return;
    }
    const box = $('phone-messages');
    const li = box.querySelector('li[data-seq="' + Number(cur.seq) + '"]');
    if (li) fillPhoneMessage(li, cur);
    else {
      box.append(renderPhoneMessage(cur));
      $('phone-empty').hidden = true;
      box.parentElement.scrollTop = box.parentElement.scrollHeight;
    }
    maybeRead();
  }

  function showPhoneResult(kind, text) {
    const p = $('phone-result');
    p.dataset.kind = kind;
    p.textContent = text;
  }

  function showPhoneType() {
    const t = $('phone-type').value;
    for (const fs of document.querySelectorAll('#phone-composer fieldset[data-ptype]')) fs.hidden = fs.dataset.ptype !== t;
  }

  function buildCustomerMessage() {
    const t = $('phone-type').value;
    const v = (id) => $(id).value.trim();
    switch (t) {
      case 'text':
        if (!v('phone-text')) throw fieldError('phone-text', 'Type the customer\'s message first.');
        return { type: 'text', text: $('phone-text').value };
      case 'attachment': {
        if (!safeURL(v('phone-url'))) throw fieldError('phone-url', 'Give an http(s) URL for the attachment.');
        const a = { type: v('phone-kind'), url: v('phone-url') };
        if (v('phone-caption')) a.description = v('phone-caption');
        return { type: 'attachment', attachment: a };
      }
      case 'location': {
        const lat = Number(v('phone-lat'));
        const lng = Number(v('phone-lng'));
        if (v('phone-lat') === '' || !isFinite(lat)) throw fieldError('phone-lat', 'Latitude must be a number.');
        if (v('phone-lng') === '' || !isFinite(lng)) throw fieldError('phone-lng', 'Longitude must be a number.');
        const m = { type: 'location', latitude: lat, longitude: lng };
        if (v('phone-address')) m.address = v('phone-address');
        return m;
      }
    }
    throw new Error('unknown type ' + t);
  }

  async function phoneSend(ev) {
    ev.preventDefault();
    const btn = $('phone-send');
    if (btn.disabled) return;
    const p = currentProvider();
    if (!p) return;
    let msg;
    try {
      msg = buildCustomerMessage();
    } catch (e) {
      showPhoneResult('error', e.message);
      if (e.field) $(e.field).focus();
      return;
    }
    const from = $('phone-from').value.trim();
    if (!from) {
      showPhoneResult('error', 'Type the customer\'s address in From.');
      $('phone-from').focus();
      return;
    }
    btn.disabled = true;
    $('phone-composer').setAttribute('aria-busy', 'true');
    showPhoneResult('busy', 'Posting ' + p.name + '\'s webhook to your server…');
    try {
      const res = await fetch(API + '/providers/' + encodeURIComponent(p.name) + '/inbound', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ contactId: from, message: msg }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        showPhoneResult('error', 'Not sent (HTTP ' + res.status + '): ' + (((body || {}).error || {}).message || res.statusText));
        return;
      }
      const pm = body.phone;
      upsertPhone(pm);
      const k = key(pm.channelId, pm.contactId);
      if (state.current !== k) {
        openConversation(k, false);
        document.body.dataset.pane = 'phone';
        renderPhone();
      } else applyPhone(pm);
      renderContacts();
      if (body.ok) {
        showPhoneResult('ok', 'Sent: your server answered HTTP ' + pm.webhook.status + '.');
        for (const id of ['phone-text', 'phone-url', 'phone-caption', 'phone-lat', 'phone-lng', 'phone-address']) $(id).value = '';
      } else {
        showPhoneResult('error', 'Your server did not take it: ' + ((pm.webhook || {}).error || 'no answer'));
      }
    } catch (e) {
      showPhoneResult('error', 'Could not reach the emulator: ' + e.message);
    } finally {
      btn.disabled = false;
      $('phone-composer').removeAttribute('aria-busy');
    }
  }

  // ---- views ----

  function setView(v) {
    document.body.dataset.view = v;
    $('inbox-view').hidden = v !== 'inbox';
    $('requests-view').hidden = v !== 'requests';
    $('tab-inbox').setAttribute('aria-pressed', String(v === 'inbox'));
    $('tab-requests').setAttribute('aria-pressed', String(v === 'requests'));
    if (v === 'requests') scheduleRequests();
  }

  // ---- loading and live updates ----

  async function loadAll() {
    const [info, cs, ph] = await Promise.all([getJSON('/'), getJSON(pageURL('/contacts', { limit: CONTACT_PAGE })), getJSON('/phone')]);
    state.info = info;
    state.contacts.clear();
    state.messages.clear();
    state.convs.clear();
    state.phone.clear();
    for (const c of cs.contacts || []) upsertContact(c);
    state.contactsNext = cs.next || null;
    for (const pm of ph.messages || []) upsertPhone(pm);
    renderPhoneSettings();
    const names = info.channels.map((c) => c.channelId + ' (' + c.idType + ')').join(', ');
    $('channel-info').textContent = 'Channel ' + names + ' · webhook ' + info.webhookUrl;
    const sel = $('composer-channel');
    const keep = sel.value;
    sel.replaceChildren(...info.channels.map((c) => el('option', { value: c.channelId }, c.channelId)));
    if (keep) sel.value = keep;
    $('composer-channel-label').hidden = info.channels.length < 2;
    state.loaded = true;
    for (const ev of state.pending.splice(0)) handleEvent(ev);
    if (state.current && !state.contacts.has(state.current)) state.current = null;
    const route = parseRoute(location.hash);
    if (!state.routed && route.contact !== null) {
      const k = await ensureContact(route.contact, route.channel);
      if (k) state.current = k;
    }
    if (!state.current && window.matchMedia('(min-width: 761px)').matches) {
      const first = Array.from(state.contacts.values()).sort(byActivity)[0];
      if (first) state.current = key(first.channelId, first.contactId);
      if (first) $('composer-to').value = first.contactId;
    }
    if (state.current) await loadConversation(state.current);
    if (state.current) markSeen(state.current);
    renderContacts();
    renderConversation();
    renderPhone();
    scheduleRequests();
    if (!state.routed) {
      state.routed = true;
      applyRoute();
    }
  }

  function handleEvent(ev) {
    if (!state.loaded) {
      state.pending.push(ev);
      return;
    }
    switch (ev.kind) {
      case 'contact.created':
        if (ev.contact) upsertContact(ev.contact);
        renderContacts();
        if (!state.current && state.contacts.size === 1 && window.matchMedia('(min-width: 761px)').matches) {
          openConversation(key(ev.contact.channelId, ev.contact.contactId), false);
        }
        break;
      case 'message.received':
      case 'message.echo':
      case 'message.status':
      case 'outgoing.sent':
      case 'outgoing.failed':
        if (ev.message && upsertMessage(ev.message, ev.time)) {
          applyMessage(state.messages.get(ev.message.seq));
          renderContacts();
        }
        break;
      case 'customer.message':
      case 'provider.send':
      case 'provider.receipt':
      case 'phone.linked':
        if (ev.phone) applyPhone(ev.phone);
        break;
    }
    if (ev.kind.startsWith('webhook.') || ev.kind.startsWith('outgoing.') || ev.phone) scheduleRequests();
  }

  function setConn(kind, text) {
    const c = $('conn');
    c.dataset.state = kind;
    c.textContent = text;
  }

  function connect() {
    const es = new EventSource(API + '/events');
    let opened = false;
    const kinds = ['webhook.accepted', 'webhook.rejected', 'contact.created', 'message.received', 'message.echo',
      'message.status', 'outgoing.sent', 'outgoing.failed', 'warning',
      'customer.message', 'provider.send', 'provider.receipt', 'phone.linked'];
    for (const k of kinds) {
      es.addEventListener(k, (e) => {
        try { handleEvent(JSON.parse(e.data)); } catch (_) { /* a malformed event is skipped */ }
      });
    }
    es.addEventListener('open', () => {
      setConn('live', 'Live');
      // After a reconnect, events may have been missed: reload everything.
      if (opened) loadAll().catch(() => {});
      opened = true;
    });
    es.addEventListener('error', () => {
      setConn('down', es.readyState === EventSource.CLOSED ? 'Disconnected: reload the page' : 'Reconnecting…');
    });
  }

  function init() {
    $('composer').addEventListener('submit', send);
    $('composer-type').addEventListener('change', () => { showType(); });
    for (const id of ['composer-text', 'composer-payload']) {
      $(id).addEventListener('keydown', (e) => {
        const submit = id === 'composer-text' ? (e.key === 'Enter' && !e.shiftKey && !e.isComposing) : (e.key === 'Enter' && (e.ctrlKey || e.metaKey));
        if (submit) {
          e.preventDefault();
          $('composer').requestSubmit();
        }
      });
    }
    $('messages').addEventListener('scroll', () => {
      if (state.current && $('messages').scrollTop < 80) loadOlder(state.current);
    });
    $('contacts').addEventListener('scroll', () => {
      const p = $('contacts');
      if (p.scrollHeight - p.scrollTop - p.clientHeight < 200) loadMoreContacts();
    });
    $('tab-inbox').addEventListener('click', () => {
      // The view changes at once; the hashchange that follows finds it shown.
      setView('inbox');
      navigate(state.current ? contactRoute(state.current) : '#/inbox');
    });
    $('tab-requests').addEventListener('click', () => { if (!navigate(requestsRoute(null))) applyRoute(); });
    $('flow-close').addEventListener('click', () => { navigate(requestsRoute(null)); $('tab-requests').focus(); });
    window.addEventListener('hashchange', applyRoute);
    $('contact-search').addEventListener('input', renderContacts);
    for (const id of ['rf-q', 'rf-contact', 'rf-type']) $(id).addEventListener('input', () => applyRequestFilters(true));
    for (const id of ['rf-status', 'rf-kind', 'rf-findings']) $(id).addEventListener('change', () => applyRequestFilters(true));
    $('request-filters').addEventListener('submit', (e) => e.preventDefault());
    $('rf-clear').addEventListener('click', () => {
      setFilters(new URLSearchParams());
      applyRequestFilters(true);
      $('rf-q').focus();
    });
    $('phone-composer').addEventListener('submit', phoneSend);
    $('phone-type').addEventListener('change', showPhoneType);
    $('phone-provider').addEventListener('change', renderPhone);
    $('phone-autoread').addEventListener('change', maybeRead);
    $('phone-text').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        $('phone-composer').requestSubmit();
      }
    });
    $('open-phone').addEventListener('click', () => {
      document.body.dataset.pane = 'phone';
      renderPhone();
      $('phone-text').focus();
    });
    $('phone-back').addEventListener('click', () => {
      document.body.dataset.pane = state.current ? 'conversation' : 'list';
      (state.current ? $('open-phone') : $('new-conversation')).focus();
    });
    $('back').addEventListener('click', () => {
      if (location.hash.startsWith('#/contacts/')) history.pushState(null, '', '#/inbox');
      document.body.dataset.pane = 'list';
      const btn = document.querySelector('#contact-list button[aria-current="true"]') || $('new-conversation');
      btn.focus();
    });
    $('new-conversation').addEventListener('click', () => {
      state.current = null;
      document.body.dataset.pane = 'conversation';
      renderConversation();
      renderContacts();
      $('conv-title').textContent = 'New conversation';
      $('conv-sub').textContent = 'Type the contact ID in "To" (phone channels can start a conversation).';
      $('composer-to').value = '';
      $('composer-to').focus();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && state.current) {
        markSeen(state.current);
        renderContacts();
        maybeRead();
      }
    });
    showType();
    showPhoneType();
    connect();
    loadAll().catch((e) => setConn('down', 'Could not load the inbox: ' + e.message));
  }

  // For scripts and tests (clipboards are often unavailable headless): the
  // curl command of a request, and the text Copy as curl copied last.
  window.ccxInbox = Object.freeze({
    curlOf: (seq) => ((state.reqBySeq.get(Number(seq)) || {}).curl || null),
    lastCopied: () => state.copied,
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
