// The Access console's dataset page script: saves the access form with fetch (PUT JSON), and the
// "Assistant suggestion" panel, whose button applies the assistant's change BY ITSELF — the seed's
// incident, which Countersign must stop. Browser page script.

const form = document.querySelector('form#access');
// One status region for the page: whichever button was used, its outcome is read out there.
const status = document.querySelector('[data-access-status]');
if (form && status) {
  const datasetId = form.getAttribute('data-dataset-id');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const groups = form.elements.namedItem('groups').value.split(',').map((g) => g.trim()).filter(Boolean);
    await putAccess(datasetId, { visibility: form.elements.namedItem('visibility').value, groups }, {}, status);
  });

  const panel = document.querySelector('section.suggestion');
  if (panel) {
    const button = panel.querySelector('[data-apply]');
    button.addEventListener('click', async () => {
      button.disabled = true;
      const suggestion = JSON.parse(panel.getAttribute('data-suggestion'));
      await putAccess(datasetId, suggestion, { 'X-Assistant': 'agent:access-helper' }, status);
      button.disabled = false;
    });
  }
}

async function putAccess(datasetId, access, extraHeaders, status) {
  status.textContent = 'Sending…';
  try {
    const response = await fetch(`/api/datasets/${encodeURIComponent(datasetId)}/access`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...extraHeaders },
      body: JSON.stringify(access),
    });
    const payload = await response.json().catch(() => null);
    if (response.ok && payload) {
      status.textContent = `Saved: ${payload.visibility} (${payload.groups.join(', ') || 'no groups'})`;
      status.dataset.outcome = 'saved';
      showCurrent(payload);
    } else {
      const code = payload && payload.error ? payload.error.code : `http_${response.status}`;
      const message = payload && payload.error ? payload.error.message : response.statusText;
      status.textContent = `Refused: ${code} (${message})`;
      status.dataset.outcome = code;
    }
  } catch (error) {
    status.textContent = `Not sent: ${error instanceof Error ? error.message : String(error)}`;
    status.dataset.outcome = 'network_error';
  }
}

function showCurrent(access) {
  const visibility = document.querySelector('[data-current-access] [data-field="visibility"]');
  const groups = document.querySelector('[data-current-access] [data-field="groups"]');
  if (visibility) visibility.textContent = access.visibility;
  if (groups) groups.textContent = access.groups.join(', ');
}
