/**
 * Stand-in for cdktf's token creation-stack capture in tests. cdktf records a full stack trace
 * for every token it creates (each resource reference); under jest every trace goes through
 * source-map support, which made that capture a third of a synthesis. Tests read no creation
 * stacks, so none are recorded here; synthesis output is unchanged.
 */
exports.captureStackTrace = () => [];
