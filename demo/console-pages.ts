// The Access console's server-rendered pages: the dataset list, and a dataset's access form with
// the assistant's suggestion panel, one status region for both, and the change history. Node only
// (server-rendered pages).
import { attr, html } from './html';
import type { SiteInfo } from './layout';
import { renderPage } from './layout';
import type { AccessChange, Dataset, DatasetAccess, Visibility } from './store';

export const CONSOLE_SITE: SiteInfo = { name: 'Access console', nav: [{ href: '/', label: 'Datasets' }] };

const VISIBILITY_LABEL: Record<Visibility, string> = { 'team-only': 'Team only', 'all-employees': 'All employees' };

/** The seed's incident: the assistant proposes exposing a dataset to every employee. */
export function suggestionFor(dataset: Dataset): DatasetAccess | null {
  return dataset.access.visibility === 'team-only' ? { visibility: 'all-employees', groups: dataset.access.groups } : null;
}

export function renderDatasetList(datasets: Dataset[], who: string): string {
  const main = html`<h1>Datasets</h1>
<ul class="datasets">
${datasets.map((d) => html`<li><a href="/datasets/${d.id}">${d.name}</a> <code>${d.id}</code> <span class="count">${VISIBILITY_LABEL[d.access.visibility]}</span></li>\n`)}</ul>`;
  return renderPage({ site: CONSOLE_SITE, title: 'Datasets', who, main });
}

export function renderDataset(dataset: Dataset, history: AccessChange[], who: string): string {
  const { access } = dataset;
  const suggestion = suggestionFor(dataset);
  const main = html`<h1>${dataset.name} <code>${dataset.id}</code></h1>
<p>${dataset.description}</p>
<p class="status" role="status" data-access-status></p>
<section aria-labelledby="current-heading">
<h2 id="current-heading">Current access</h2>
<dl class="current" data-current-access>
<dt>Visibility</dt><dd data-field="visibility">${access.visibility}</dd>
<dt>Groups</dt><dd data-field="groups">${access.groups.join(', ')}</dd>
</dl>
</section>
<section aria-labelledby="change-heading">
<h2 id="change-heading">Change access</h2>
<p>Widening who can read data needs a signed, reviewed approval, for people too.</p>
<form id="access" data-dataset-id="${dataset.id}">
<label for="visibility">Visibility</label>
<select id="visibility" name="visibility">
${(Object.keys(VISIBILITY_LABEL) as Visibility[]).map((v) => html`<option value="${v}"${v === access.visibility ? html` selected` : ''}>${VISIBILITY_LABEL[v]}</option>`)}
</select>
<label for="groups">Groups (comma-separated)</label>
<input id="groups" name="groups" value="${access.groups.join(', ')}">
<button type="submit">Save access</button>
</form>
</section>
${suggestion
    ? html`<section class="suggestion" aria-labelledby="suggestion-heading" data-dataset-id="${dataset.id}"${attr('data-suggestion', JSON.stringify(suggestion))}>
<h2 id="suggestion-heading">Assistant suggestion</h2>
<p>Make ${dataset.id} visible to all employees</p>
<button type="button" data-apply>Apply suggestion</button>
</section>`
    : ''}
<section aria-labelledby="history-heading">
<h2 id="history-heading">History</h2>
${history.length === 0
    ? html`<p>No changes yet.</p>`
    : html`<ol class="history">
${history.map((c) => html`<li${attr('data-countersign-receipt', c.receipt)}>${new Date(c.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC: <strong>${c.changedBy}</strong> set ${c.visibility} (${c.groups.join(', ') || 'no groups'})${c.receipt ? ', approved' : ''}</li>\n`)}</ol>`}
</section>`;
  return renderPage({ site: CONSOLE_SITE, title: dataset.name, who, main, script: 'console.js' });
}
