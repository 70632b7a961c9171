// The store's own errors: a request the store cannot serve, in storage words. lambdas/http/domain-errors.ts maps
// them to HTTP answers with the domain's, at the edge.

/** A page position (`PageRequest.after`) that does not belong to the query it was given to. */
export class InvalidPagePosition extends Error {
  readonly code = 'INVALID_CURSOR';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
