// The options page's root component: enrollment and effective policy. Extension page only.
export function OptionsApp() {
  return (
    <main aria-labelledby="options-title">
      <h1 id="options-title">Countersign settings</h1>
      <p>This device is not enrolled.</p>
    </main>
  );
}
