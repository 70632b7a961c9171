// The list prices the model uses, kept in one file with their date and sources (prices.json).
import { readFileSync } from 'node:fs';
import type { Prices } from './model.js';

export function loadPrices(): Prices {
  return JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as Prices;
}
