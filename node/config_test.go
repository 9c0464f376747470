package node

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	c := DefaultConfig()
	if c.HTTPAddr != "127.0.0.1:8080" || c.MetricsAddr != "" || time.Duration(c.TimeoutCommit) != 100*time.Millisecond || c.LogLevel != "error" {
		t.Fatalf("DefaultConfig() = %+v; want the documented defaults", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"bad http address", func(c *Config) { c.HTTPAddr = "8080" }, "http_addr"},
		{"bad metrics address", func(c *Config) { c.MetricsAddr = "9090" }, "metrics_addr"},
		{"metrics on the API's address", func(c *Config) { c.MetricsAddr = c.HTTPAddr }, "metrics_addr"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{"more streams per client than in all", func(c *Config) { c.EventStreams = EventStreams{MaxStreams: 4, MaxStreamsPerClient: 5} }, "event_streams"},
		{"negative stream queue", func(c *Config) { c.EventStreams.QueueEvents = -1 }, "event_streams"},
		{"negative mempool", func(c *Config) { c.MempoolSize = -1 }, "negative"},
		{"state sync without a trusted height", func(c *Config) {
			c.StateSync = &StateSync{RPCServers: []string{"a:1"}, TrustHash: strings.Repeat("ab", 32), TrustPeriod: Duration(time.Hour)}
		}, "trust_height"},
		{"state sync with a short hash", func(c *Config) {
			c.StateSync = &StateSync{RPCServers: []string{"a:1"}, TrustHeight: 5, TrustHash: "abcd", TrustPeriod: Duration(time.Hour)}
		}, "trust_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v; want an error about %s", err, tc.want)
			}
		})
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	home := t.TempDir()
	c := DefaultConfig()
	c.Peers = "abc@127.0.0.1:1"
	c.EmptyBlockInterval = Duration(5 * time.Second)
	c.Custodians = map[string]string{"lakeside-clinic": "https://node.lakeside.example"}
	c.FHIRSchema = "config/fhir.schema.json"
	c.StateSync = &StateSync{RPCServers: []string{"node.mercy.example:26657"}, TrustHeight: 7, TrustHash: strings.Repeat("AB", 32), TrustPeriod: Duration(time.Hour)}
	if err := SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(home)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("LoadConfig() = %+v, %v; want %+v", got, err, c)
	}
	// CometBFT's state sync wants two servers; one may serve as both.
	ss := cometConfig(home, got).StateSync
	if err := ss.ValidateBasic(); err != nil || !ss.Enable || ss.TrustHeight != 7 || len(ss.RPCServers) != 2 {
		t.Fatalf("CometBFT state sync config %+v: %v; want it enabled from careledger.json", ss, err)
	}
}

// TestTestnetHomes checks that the homes share one genesis naming every
// node's validator, and that each node peers with all the others on its
// own ports.
func TestTestnetHomes(t *testing.T) {
	out := t.TempDir()
	homes, err := Testnet(out, TestnetOptions{Validators: 3, P2PBasePort: 30000, HTTPBasePort: 31000})
	if err != nil {
		t.Fatal(err)
	}
	if len(homes) != 3 {
		t.Fatalf("Testnet wrote %d homes; want 3", len(homes))
	}
	var first []byte
	for i, h := range homes {
		gen, err := cmttypes.GenesisDocFromFile(filepath.Join(h, "config", "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(gen.Validators) != 3 {
			t.Errorf("node%d genesis has %d validators; want 3", i, len(gen.Validators))
		}
		if got := gen.ConsensusParams.Block.MaxBytes; got != maxBlockBytes {
			t.Errorf("node%d genesis caps blocks at %d bytes; want %d", i, got, maxBlockBytes)
		}
		b, _ := json.Marshal(gen)
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("node%d genesis differs from node0's", i)
		}
		c, err := LoadConfig(h)
		if err != nil {
			t.Fatal(err)
		}
		if want := "127.0.0.1:" + strconv.Itoa(31000+i); c.HTTPAddr != want {
			t.Errorf("node%d http_addr = %s; want %s", i, c.HTTPAddr, want)
		}
		if n := len(strings.Split(c.Peers, ",")); n != 2 {
			t.Errorf("node%d has %d peers; want 2", i, n)
		}
	}
	if _, err := Testnet(out, TestnetOptions{Validators: 3}); err == nil {
		t.Error("Testnet over existing homes succeeded; want an error")
	}
}
