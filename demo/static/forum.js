// Intraforum's topic page script: the "Ask the assistant" widget. The assistant drafts an answer
// and posts it BY ITSELF, in the signed-in person's session: the very case Countersign must hold
// for the person's approval. Browser page script.

const CANNED_ANSWER =
  'payroll-2026 is team-only. I have asked for it to be opened to all employees, so you will be able to read it shortly.';

const widget = document.querySelector('[data-assistant-widget]');
if (widget) {
  const topicId = widget.getAttribute('data-topic-id');
  const button = widget.querySelector('[data-ask]');
  const draft = widget.querySelector('[data-assistant-draft]');
  const status = widget.querySelector('[data-assistant-status]');

  button.addEventListener('click', async () => {
    button.disabled = true;
    draft.value = CANNED_ANSWER;
    status.textContent = 'Sending…';
    try {
      const response = await fetch(`/api/topics/${encodeURIComponent(topicId)}/replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'X-Assistant': 'agent:forum-helper' },
        body: JSON.stringify({ body: draft.value, author_kind: 'assistant' }),
      });
      const payload = await response.json().catch(() => null);
      if (response.ok && payload && payload.reply) {
        status.textContent = 'Posted';
        status.dataset.outcome = 'posted';
        appendPost(payload.reply);
      } else {
        const code = payload && payload.error ? payload.error.code : `http_${response.status}`;
        const message = payload && payload.error ? payload.error.message : response.statusText;
        status.textContent = `Refused: ${code} (${message})`;
        status.dataset.outcome = code;
      }
    } catch (error) {
      status.textContent = `Not sent: ${error instanceof Error ? error.message : String(error)}`;
      status.dataset.outcome = 'network_error';
    } finally {
      button.disabled = false;
    }
  });
}

/** Shows the new post the way the server renders it, built with textContent (never markup). */
function appendPost(reply) {
  const list = document.querySelector('[data-posts]');
  if (!list) return;
  const article = document.createElement('article');
  article.className = 'post';
  article.id = `post-${reply.id}`;
  if (reply.receipt) article.setAttribute('data-countersign-receipt', reply.receipt);
  const header = document.createElement('header');
  const author = document.createElement('span');
  author.className = 'author';
  author.textContent = 'assistant';
  const name = document.createElement('span');
  name.className = 'author-name';
  name.textContent = 'Forum assistant (AI)';
  const via = document.createElement('span');
  via.className = 'via';
  via.textContent = reply.author.startsWith('agent:') ? reply.author : `in ${reply.author}'s session`;
  header.append(author, ' ', name, ' ', via);
  const body = document.createElement('div');
  body.className = 'post-body';
  body.textContent = reply.body;
  article.append(header, body);
  list.append(article);
}
