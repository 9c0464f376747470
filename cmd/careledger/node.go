package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/node"
)

const defaultHome = "./careledger-data"

func homeFlag(fs *flag.FlagSet) *string {
	return fs.String("home", envOr("CARELEDGER_HOME", defaultHome), "node home directory (env CARELEDGER_HOME)")
}

func runInit(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	home := homeFlag(fs)
	chainID := fs.String("chain-id", "careledger-local", "chain ID of the new network")
	httpAddr := fs.String("http", "127.0.0.1:8080", "JSON API listen address")
	p2pAddr := fs.String("p2p", "127.0.0.1:26656", "CometBFT peer-to-peer listen address")
	withDemo := fs.Bool("demo", false, "create the demo network's organizations")
	orgID := fs.String("org-id", "local", "the organization running the node: its ID")
	orgName := fs.String("org-name", "Local Organization", "the organization's name")
	orgType := fs.String("org-type", "provider", "provider, payer, pharma, research or regulator")
	minRecovery := fs.Duration("min-recovery-delay", 0, "the least delay a patient may set between guardians' approval of a recovery and its effect (default 24h)")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *minRecovery < 0 || *minRecovery%time.Second != 0 {
		return usageError("--min-recovery-delay must be a positive whole number of seconds")
	}
	typ, err := identity.ParseOrgType(*orgType)
	if err != nil {
		return usageError(err.Error())
	}
	c := node.Config{HTTPAddr: *httpAddr, P2PAddr: *p2pAddr}
	o := node.InitOptions{ChainID: *chainID, Config: c, Org: node.Org{ID: *orgID, Name: *orgName, Type: typ}}
	if *withDemo {
		o = demo.InitOptions(c)
	}
	o.MinRecoveryDelay = uint64(*minRecovery / time.Second)
	if err := node.Init(*home, o); err != nil {
		return err
	}
	fmt.Printf("initialized %s (chain %s); the admin key is %s\n", *home, o.ChainID, node.KeysDir(*home).Path("admin"))
	return nil
}

func runNode(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	home := homeFlag(fs)
	httpAddr := fs.String("http", "", "JSON API listen address (default from the home's config, 127.0.0.1:8080); saved in the home's config")
	p2pAddr := fs.String("p2p", "", "CometBFT peer-to-peer listen address (default from the home's config, 127.0.0.1:26656); saved in the home's config")
	withDemo := fs.Bool("demo", false, "seed demo organizations, members and patients, and print where their keys are")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	if !node.IsInitialized(*home) {
		o := node.InitOptions{}
		if *withDemo {
			o = demo.InitOptions(node.Config{})
		}
		if err := node.Init(*home, o); err != nil {
			return err
		}
		fmt.Printf("created %s: a single-validator network\n", *home)
	}
	// --http and --p2p apply to a new home and an existing one alike: the
	// home's configuration keeps them for the next start.
	if *httpAddr != "" || *p2pAddr != "" {
		// Not the configuration of a node running on the home: Open would
		// refuse the home after the file had changed under that node.
		unlock, err := node.LockHome(*home)
		if err != nil {
			return err
		}
		if err := unlock(); err != nil {
			return err
		}
		c, err := node.LoadConfig(*home)
		if err != nil {
			return err
		}
		if *httpAddr != "" {
			c.HTTPAddr = *httpAddr
		}
		if *p2pAddr != "" {
			c.P2PAddr = *p2pAddr
		}
		if err := node.SaveConfig(*home, c); err != nil {
			return err
		}
	}
	n, err := node.Open(*home)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Stop()
		return err
	}
	url := "http://" + n.HTTPAddr()
	fmt.Printf("careledger node %s, chain %s, home %s\n", node.Version, n.ChainID(), *home)
	fmt.Printf("  API      %s/v1/status\n  OpenAPI  %s/v1/openapi.json\n  FHIR     %s/fhir/metadata\n  health   %s/healthz\n", url, url, url, url)
	if a := n.MetricsAddr(); a != "" {
		fmt.Printf("  metrics  http://%s/metrics\n", a)
	} else {
		fmt.Printf("  metrics  off (metrics_addr in config/careledger.json)\n")
	}
	if *withDemo {
		if n.ChainID() != demo.InitOptions(node.Config{}).ChainID {
			n.Stop()
			return fmt.Errorf("--demo needs a home the demo created; %s holds chain %q (use another --home)", *home, n.ChainID())
		}
		if err := seedDemo(ctx, url, *home); err != nil {
			n.Stop()
			return err
		}
	}
	fmt.Println("press Ctrl-C to stop")
	<-ctx.Done()
	fmt.Println("stopping")
	return n.Stop()
}

func seedDemo(ctx context.Context, url, home string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	accounts, err := demo.Seed(ctx, client.New(url), node.KeysDir(home))
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	fmt.Printf("demo accounts (keys in %s):\n", node.KeysDir(home))
	for _, a := range accounts {
		who := "patient"
		if a.Org != "" {
			who = fmt.Sprintf("%s at %s", a.Role, a.Org)
		}
		fmt.Printf("  %-16s %-32s %s\n", a.Key, who, a.Address)
	}
	fmt.Printf("  admins: admin (%s)", demo.Host.ID)
	for _, o := range demo.Others {
		fmt.Printf(", %s-admin", o.ID)
	}
	fmt.Println()
	var schedules []string
	for _, sc := range demo.Schedules {
		schedules = append(schedules, sc.Provider+" "+sc.Schedule)
	}
	fmt.Printf("  schedules with open slots: %s; reward program: %s (%s's, held for redemption to %s)\n", strings.Join(schedules, ", "),
		demo.RewardProgram, demo.Payer, strings.Join(demo.Program(time.Now()).RedeemTo, ", "))
	return nil
}

func runTestnet(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("testnet", flag.ContinueOnError)
	n := fs.Int("validators", 4, "number of validators")
	out := fs.String("out", "./testnet", "directory to write node0 ... nodeN-1 into")
	chainID := fs.String("chain-id", "careledger-testnet", "chain ID")
	p2pPort := fs.Int("p2p-port", 26656, "node0's peer-to-peer port; node i uses port+i")
	httpPort := fs.Int("http-port", 8080, "node0's API port; node i uses port+i")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	homes, err := node.Testnet(*out, node.TestnetOptions{
		Validators: *n, ChainID: *chainID, P2PBasePort: *p2pPort, HTTPBasePort: *httpPort,
	})
	if err != nil {
		return err
	}
	for i, h := range homes {
		fmt.Fprintf(os.Stdout, "node%d: careledger node --home %s  (API http://127.0.0.1:%d)\n", i, h, *httpPort+i)
	}
	return nil
}
