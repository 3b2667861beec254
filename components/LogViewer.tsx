// The log viewer: filter by trace, agent and type; export JSON Lines. Extension page only.
import { useEffect, useState } from 'react';
import type { LogEvent } from '@/lib/protocol';
import { ask } from '@/lib/messaging/client';

export function LogViewer() {
  const [filter, setFilter] = useState({ trace: '', agent: '', type: '' });
  const [events, setEvents] = useState<LogEvent[]>([]);
  const query = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== ''));
  const queryKey = JSON.stringify(query);

  useEffect(() => {
    ask('ui-bg:list-log', JSON.parse(queryKey) as typeof query).then(setEvents, () => setEvents([]));
  }, [queryKey]);

  async function exportJsonl() {
    const text = await ask('ui-bg:export-log', query);
    const url = URL.createObjectURL(new Blob([text ? `${text}\n` : ''], { type: 'application/jsonl' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'countersign-log.jsonl';
    a.click();
    URL.revokeObjectURL(url);
  }

  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Log</h2>
      <div className="filters">
        <label>
          Trace
          <input value={filter.trace} onChange={(e) => setFilter({ ...filter, trace: e.target.value })} />
        </label>
        <label>
          Agent
          <input value={filter.agent} onChange={(e) => setFilter({ ...filter, agent: e.target.value })} />
        </label>
        <label>
          Type
          <select value={filter.type} onChange={(e) => setFilter({ ...filter, type: e.target.value })}>
            <option value="">any</option>
            {['proposed', 'held', 'approved', 'released', 'rejected', 'expired', 'blocked', 'failed', 'enrolled'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={exportJsonl}>
          Export JSON Lines
        </button>
      </div>
      <table aria-label="Log events">
        <thead>
          <tr>
            <th scope="col">Seq</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Agent</th>
            <th scope="col">Trace</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{e.seq}</td>
              <td>{new Date(e.ts).toISOString()}</td>
              <td>{e.type}</td>
              <td>{e.agent ?? ''}</td>
              <td>{e.trc ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
