export { newJobInput } from '../../lib/store/store.conformance.js';
