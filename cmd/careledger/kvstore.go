package main

import (
	"context"
	"flag"

	"github.com/careledger/careledger/bench"
	"github.com/careledger/careledger/node"
)

// runKVStoreNode runs `careledger bench kvstore-node --home DIR`: CometBFT's
// kvstore example, the benchmark's baseline, with CometBFT configured from
// a node home exactly as a CareLedger node's, serving CometBFT's RPC at the
// home's comet_rpc_addr. `bench --processes` runs one per validator; it is
// left out of the usage, being of no use alone.
func runKVStoreNode(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench kvstore-node", flag.ContinueOnError)
	home := homeFlag(fs)
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	cn, err := node.NewComet(*home, bench.KVStore(*home))
	if err != nil {
		return err
	}
	if err := cn.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	err = cn.Stop()
	cn.Wait()
	return err
}
