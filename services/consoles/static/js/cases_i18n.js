// Strings of the 以案说防 screens (cases.js, hotspots.js and report.js), merged into the i18n tables.
import { addPairs } from './i18n.js';
import strings from '../strings_cases.json' with { type: 'json' };

addPairs(strings);
