import type { Clock } from '../../lib/clock/clock.js';
import { resolveJobDefaults, type JobDefaultsOptions } from '../../lib/discovery/job-defaults.resolver.js';
import type { ErrorClassifyFunction } from '../../lib/errors/error-classifier.types.js';
import { ErrorClassifier } from '../../lib/errors/error.classifier.js';

/** The classifier a composed scheduler builds, with the module's defaults (the built-in ones unless given). */
export function testClassifier(clock: Pick<Clock, 'now'>, options: { defaults?: JobDefaultsOptions; classify?: ErrorClassifyFunction } = {}): ErrorClassifier {
  return new ErrorClassifier({ classify: options.classify, defaults: resolveJobDefaults(options.defaults), now: () => clock.now() });
}
