// Strings of the roster page (队伍与可达性) (roster.js), merged into the i18n tables.
import { addPairs } from './i18n.js';
import strings from '../strings_roster.json' with { type: 'json' };

addPairs(strings);
