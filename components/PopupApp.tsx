// The popup's root component: the owner's queue of held actions. Extension page only.
export function PopupApp() {
  return (
    <main aria-labelledby="popup-title">
      <h1 id="popup-title">Countersign</h1>
      <section aria-label="Pending actions">
        <p>No pending actions.</p>
      </section>
    </main>
  );
}
