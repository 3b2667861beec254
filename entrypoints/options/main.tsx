// Options entry: mounts the settings app. Extension page only.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@/components/styles.css';
import { OptionsApp } from '@/components/OptionsApp';

const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><OptionsApp /></StrictMode>);
