/**
 * Reports a bad option (`option`: its path, `detail`: what is wrong); must throw.
 * @internal
 */
export type OptionFailure = (option: string, detail: string) => never;
