package epcisapi

// Exported for the tests of package epcisapi_test, which start nodes (and
// so import node, which imports this package).
var ChainEPC = chainEPC

type Job = job
