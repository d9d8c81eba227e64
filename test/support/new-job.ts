export { newJobInput } from '../../lib/store/index.js';
