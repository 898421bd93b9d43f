// The dashboard page: renders the snapshots the CLI's local server streams (GET api/events).
// Every value from the cluster is set as text, never as HTML.

const $ = (id) => document.getElementById(id);
let last; // the latest snapshot
let receivedAt = 0;

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

function age(stampMs, now = Date.now()) {
  const ms = now - stampMs;
  const span = (s) => (s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : s < 86400 ? `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m` : `${Math.floor(s / 86400)}d`);
  return ms < -999 ? `${span(Math.floor(-ms / 1000))} ahead` : `${span(Math.max(0, Math.floor(ms / 1000)))} ago`;
}

function replaceRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function renderMembers(s) {
  const now = Date.now();
  replaceRows(
    $('members').tBodies[0],
    s.members.map((m) => {
      const tr = document.createElement('tr');
      tr.dataset.member = m.address;
      tr.dataset.status = m.status;
      tr.append(
        cell(m.address, 'address'),
        cell(m.status, `status ${m.status}`),
        cell(m.monitor ? 'yes' : 'no'),
        cell(age(m.lastUpdate, now)),
        cell(m.declaredBy ?? '–', m.declaredBy && m.declaredBy !== 'itself' ? 'address' : ''),
        cell(m.stateKeys === undefined ? '?' : String(m.stateKeys)),
      );
      return tr;
    }),
  );
  for (const status of ['online', 'suspect', 'offline']) $(`count-${status}`).textContent = String(s.counts[status]);
  $('source').textContent = s.source
    ? `As ${s.source} sees it${s.source === (s.member ?? s.entry) ? '' : ` (${s.entry} does not answer)`}; read ${s.viewReadAt ? age(s.viewReadAt, now) : '–'}.`
    : '';
  $('view-error').hidden = !s.error;
  $('view-error').textContent = s.error ? `No view could be read: ${s.error}` : '';
}

function renderServers(s) {
  const group = new Map(s.agreement.groups.map((g, i) => [g.fingerprint, i]));
  replaceRows(
    $('servers').tBodies[0],
    s.servers.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.server = r.address;
      tr.dataset.reachable = String(r.reachable);
      if (r.fingerprint) tr.dataset.fingerprint = r.fingerprint;
      if (!r.reachable) tr.className = 'unreachable';
      const fingerprint = cell(r.fingerprint ?? '–', 'fingerprint');
      if (r.fingerprint && s.agreement.groups.length > 1) fingerprint.classList.add(`group-${Math.min(group.get(r.fingerprint), 3)}`);
      const health = r.health ? `${r.health.status}${r.health.cluster ? ` (cluster ${r.health.cluster})` : ''}` : '–';
      // "cannot reach <its URL>: connection refused (…)": the row names the server already
      const reason = (r.error ?? '').replace(`cannot reach ${r.address}: `, '').replace(`${r.address} `, '');
      const reachable = cell(r.reachable ? 'yes' : `no: ${reason}`, r.reachable ? '' : 'reason');
      if (r.error) reachable.title = r.error;
      tr.append(
        cell(r.address, 'address'),
        reachable,
        fingerprint,
        cell(r.counts ? `${r.counts.online} / ${r.counts.suspect} / ${r.counts.offline}` : '–'),
        cell(health),
        cell(r.healthScore === undefined ? '–' : String(r.healthScore)),
        cell(r.latencyMs === undefined ? '–' : `${r.latencyMs} ms`),
      );
      return tr;
    }),
  );
  const a = s.agreement;
  const agreement = $('agreement');
  if (a.sweptAt === undefined) agreement.textContent = 'checking…';
  else if (a.groups.length === 0) agreement.textContent = 'no server answered';
  else if (a.agree) agreement.textContent = `${a.groups[0].servers.length} agree`;
  else agreement.textContent = `differ: ${a.groups.map((g) => g.servers.length).join(' / ')}`;
  const unreachable = s.servers.filter((r) => !r.reachable).length;
  $('agreement-label').textContent = unreachable ? `views; ${unreachable} not reachable` : 'views';
  agreement.dataset.agree = String(a.agree);
  agreement.style.color = a.agree ? 'var(--online)' : a.groups.length > 1 ? 'var(--offline)' : '';
}

function renderChanges(s) {
  $('no-changes').hidden = s.changes.length > 0;
  $('changes').replaceChildren(
    ...s.changes.map((c) => {
      const li = document.createElement('li');
      const time = document.createElement('time');
      time.dateTime = new Date(c.at).toISOString();
      time.textContent = new Date(c.at).toLocaleTimeString();
      const what = c.from === undefined ? `joined, ${c.to}` : `${c.from} → ${c.to}`;
      const by = !c.declaredBy || c.to === 'online' ? '' : c.declaredBy === 'itself' ? ' (by itself)' : ` (declared by ${c.declaredBy})`;
      li.append(time, document.createTextNode(`${c.address} ${what}${by}`));
      li.dataset.address = c.address;
      li.dataset.to = c.to;
      return li;
    }),
  );
}

/** Singleton owners and keys per owner: rendered only when the snapshot carries them. */
function renderOwnership(s) {
  const o = s.ownership;
  $('ownership').hidden = !o;
  if (!o) return;
  replaceRows($('singletons').tBodies[0], o.singletons.map((x) => row(cell(x.name), cell(x.owner, 'address'))));
  replaceRows($('keys-per-owner').tBodies[0], o.keysPerOwner.map((x) => row(cell(x.owner, 'address'), cell(String(x.keys)))));
}

function render(s) {
  last = s;
  receivedAt = Date.now();
  $('cluster').textContent = `cluster "${s.cluster}"`;
  renderMembers(s);
  renderServers(s);
  renderChanges(s);
  renderOwnership(s);
  document.body.dataset.viewReadAt = String(s.viewReadAt ?? '');
}

function setConnection(text, state) {
  const el = $('connection');
  el.textContent = text;
  el.className = `connection ${state}`;
}

// ages move on between snapshots; a snapshot older than three intervals means the CLI is stuck
setInterval(() => {
  if (!last) return;
  renderMembers(last);
  const silentMs = Date.now() - receivedAt;
  if (silentMs > 3 * Math.max(last.intervalMs, 1000)) setConnection(`no update for ${Math.round(silentMs / 1000)} s`, 'bad');
}, 1000);

const events = new EventSource('api/events');
events.addEventListener('snapshot', (event) => {
  render(JSON.parse(event.data));
  setConnection(`live, every ${last.intervalMs / 1000} s`, 'live');
});
events.addEventListener('error', () => setConnection('the CLI does not answer; retrying…', 'bad'));
