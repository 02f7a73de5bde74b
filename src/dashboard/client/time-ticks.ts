// Ticks for a linear axis of milliseconds, without a date adapter: Chart.js's own linear ticks
// fall on round numbers of milliseconds (any time of day), so these fall on local midnights,
// first days of months or years instead, as few as fit, and Intl names them.
import { pageLocale } from './format.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Step =
  | { unit: 'hour'; every: number }
  | { unit: 'day'; every: number }
  | { unit: 'month'; every: number }
  | { unit: 'year'; every: number };

// Approximate lengths, only to choose a step; the ticks themselves follow the calendar.
const STEPS: Array<[Step, number]> = [
  [{ unit: 'hour', every: 1 }, HOUR],
  [{ unit: 'hour', every: 3 }, 3 * HOUR],
  [{ unit: 'hour', every: 6 }, 6 * HOUR],
  [{ unit: 'hour', every: 12 }, 12 * HOUR],
  [{ unit: 'day', every: 1 }, DAY],
  [{ unit: 'day', every: 2 }, 2 * DAY],
  [{ unit: 'day', every: 7 }, 7 * DAY],
  [{ unit: 'day', every: 14 }, 14 * DAY],
  [{ unit: 'month', every: 1 }, 30 * DAY],
  [{ unit: 'month', every: 3 }, 91 * DAY],
  [{ unit: 'month', every: 6 }, 182 * DAY],
  [{ unit: 'year', every: 1 }, 365 * DAY],
  [{ unit: 'year', every: 2 }, 730 * DAY],
  [{ unit: 'year', every: 5 }, 1826 * DAY],
  [{ unit: 'year', every: 10 }, 3652 * DAY],
];

function chooseStep(span: number, maxTicks: number): Step {
  for (const [step, length] of STEPS) if (span / length <= maxTicks) return step;
  return { unit: 'year', every: Math.ceil(span / (365 * DAY * maxTicks)) };
}

/** The first boundary of `step`'s unit at or after `from` (local time). */
function firstBoundary(from: number, step: Step): Date {
  const date = new Date(from);
  date.setMinutes(0, 0, 0);
  if (step.unit !== 'hour') date.setHours(0);
  if (step.unit === 'month' || step.unit === 'year') date.setDate(1);
  if (step.unit === 'year') date.setMonth(0);
  while (date.getTime() < from) advance(date, { ...step, every: 1 });
  return date;
}

function advance(date: Date, step: Step): void {
  if (step.unit === 'hour') date.setHours(date.getHours() + step.every);
  else if (step.unit === 'day') date.setDate(date.getDate() + step.every);
  else if (step.unit === 'month') date.setMonth(date.getMonth() + step.every);
  else date.setFullYear(date.getFullYear() + step.every);
}

export interface TimeTicks {
  values: number[];
  label(value: number): string;
}

/** At most `maxTicks` calendar-aligned ticks between `min` and `max`, and how to label them. */
export function timeTicks(min: number, max: number, maxTicks: number): TimeTicks {
  const step = chooseStep(Math.max(max - min, HOUR), Math.max(maxTicks, 2));
  const values: number[] = [];
  for (let date = firstBoundary(min, step); date.getTime() <= max; advance(date, step)) {
    values.push(date.getTime());
  }
  const options: Intl.DateTimeFormatOptions =
    step.unit === 'hour'
      ? { hour: 'numeric', minute: '2-digit' }
      : step.unit === 'day'
        ? { month: 'short', day: 'numeric' }
        : step.unit === 'month'
          ? { month: 'short', year: 'numeric' }
          : { year: 'numeric' };
  const format = new Intl.DateTimeFormat(pageLocale(), options);
  return { values, label: (value) => format.format(value) };
}
