// The dashboard's one script (bundled to dist/assets/dashboard.js, loaded as a module, so the
// page is parsed when it runs). Each part enhances markup that already works without it.
import { enhanceAllocationChart } from './allocation-chart.ts';
import { enhanceBusyForms } from './busy-forms.ts';
import { enhanceCopyButtons } from './copy-buttons.ts';
import { enhanceExactFigures } from './exact-figures.ts';
import { enhanceFileInputs } from './file-into.ts';
import { enhanceHistoryChart } from './history-chart.ts';

enhanceExactFigures();
enhanceCopyButtons();
enhanceBusyForms();
enhanceFileInputs();
for (const figure of document.querySelectorAll<HTMLElement>('figure[data-chart]')) {
  if (figure.dataset.chart === 'history') enhanceHistoryChart(figure);
  else if (figure.dataset.chart === 'allocation') enhanceAllocationChart(figure);
}
