// Strings of the campaign screen (以案说防 推送) (campaigns.js), merged into the i18n tables.
import { addPairs } from './i18n.js';
import strings from '../strings_campaigns.json' with { type: 'json' };

addPairs(strings);
