package node

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/careledger/careledger/api"
	"github.com/careledger/careledger/durable"
)

// Config is a node's configuration, stored in config/careledger.json.
type Config struct {
	// Moniker names the node to its peers. Default "careledger".
	Moniker string `json:"moniker"`
	// HTTPAddr is where the JSON API listens. Default "127.0.0.1:8080".
	HTTPAddr string `json:"http_addr"`
	// MetricsAddr, if set, serves the Prometheus metrics at /metrics on this
	// address, apart from the API, so that a scraper needs no access to
	// the API and the API no open metrics route. Default "" (off).
	MetricsAddr string `json:"metrics_addr,omitempty"`
	// P2PAddr is CometBFT's peer-to-peer listen address. Default
	// "127.0.0.1:26656".
	P2PAddr string `json:"p2p_addr"`
	// Peers lists the persistent peers as "nodeid@host:port", comma separated.
	// Default none.
	Peers string `json:"persistent_peers,omitempty"`
	// CometRPCAddr, if set, also serves CometBFT's own RPC there. Default off.
	CometRPCAddr string `json:"comet_rpc_addr,omitempty"`
	// TimeoutCommit is how long CometBFT waits after a commit before the next
	// height, the floor of the block interval. Default "100ms".
	TimeoutCommit Duration `json:"timeout_commit"`
	// EmptyBlockInterval is how often a block is made when no transaction is
	// waiting, so that block time keeps advancing. Default "3s".
	EmptyBlockInterval Duration `json:"empty_block_interval"`
	// MempoolSize is the most transactions the mempool holds. Default 20000.
	MempoolSize int `json:"mempool_size"`
	// LogLevel is CometBFT's log level: "error", "info", "debug" or "none".
	// Default "error".
	LogLevel string `json:"log_level"`
	// Org is the organization this node holds records for, whose node key
	// (keys/node.key) is a service member of it. Default: the organization
	// whose genesis node keys hold that key; an organization admitted by
	// governance after genesis sets it.
	Org string `json:"org,omitempty"`
	// FHIRSchema is the FHIR R4 JSON schema (fhir.schema.json) that
	// resources are validated against, as a path relative to the home or
	// absolute. Default none: resources are parsed (a JSON object of an R4
	// type) but not validated, and /fhir/metadata says so.
	FHIRSchema string `json:"fhir_schema,omitempty"`
	// Custodians maps other organizations' IDs to the API base URLs of
	// their nodes (such as "https://node.lakeside.example"), where
	// Patient/$everything gathers a patient's records. Default none: only
	// the records held here.
	Custodians map[string]string `json:"custodians,omitempty"`
	// EPCISParties maps the owning parties EPCIS documents name (a PGLN
	// such as "urn:epc:id:pgln:0614141.00000", or its GS1 Digital Link) to
	// organization IDs, for /epcis capture. Default none: events name no
	// organization as source or destination, so shipping is refused.
	EPCISParties map[string]string `json:"epcis_parties,omitempty"`
	// SkipStateCheck skips rehashing the whole state when the node starts.
	// Default false: a node whose state was altered on disk refuses to
	// start rather than sign a state the others do not hold (the check
	// costs about a second per million keys).
	SkipStateCheck bool `json:"skip_state_check,omitempty"`
	// LocalNetwork lets several nodes share one host address (a testnet on
	// 127.0.0.1). Default false.
	LocalNetwork bool `json:"local_network,omitempty"`
	// SnapshotInterval is how often, in blocks, the node writes a snapshot
	// of its state and audit log (in data/snapshots) for nodes that join by
	// state sync. Default 1000; a negative value writes none.
	SnapshotInterval int64 `json:"snapshot_interval,omitempty"`
	// SnapshotKeep is how many snapshots are kept. Default 2.
	SnapshotKeep int `json:"snapshot_keep,omitempty"`
	// EventStreams bounds the event streams of GET /v1/events. Default: a
	// queue of 256 events per stream, 4096 recent events kept for clients
	// that resume with Last-Event-ID, 512 streams, 8 per client.
	EventStreams EventStreams `json:"event_streams,omitzero"`
	// StateSync, if set, makes a node that holds no state yet restore a
	// recent snapshot from its peers, checked against a header that a light
	// client verified, instead of replaying every block. Default off.
	StateSync *StateSync `json:"state_sync,omitempty"`
}

// EventStreams are the limits of api.StreamOptions; a zero field takes its
// default.
type EventStreams struct {
	QueueEvents         int `json:"queue_events,omitempty"`
	HistoryEvents       int `json:"history_events,omitempty"`
	MaxStreams          int `json:"max_streams,omitempty"`
	MaxStreamsPerClient int `json:"max_streams_per_client,omitempty"`
}

// options returns the limits as the API takes them, defaults filled in.
func (e EventStreams) options() api.StreamOptions {
	o := api.StreamOptions{QueueEvents: e.QueueEvents, HistoryEvents: e.HistoryEvents, MaxStreams: e.MaxStreams, MaxStreamsPerClient: e.MaxStreamsPerClient}
	o.EnsureDefaults()
	return o
}

// StateSync configures how a new node joins by state sync.
type StateSync struct {
	// RPCServers are the CometBFT RPC addresses (their comet_rpc_addr,
	// "host:port") of one or more nodes of the network, which the light
	// client asks for headers and validator sets. Required.
	RPCServers []string `json:"rpc_servers"`
	// TrustHeight and TrustHash name a block the operator trusts, learned
	// from a node they trust (GET /v1/blocks/{height} gives its hash); the
	// light client verifies every header it uses from there. Required.
	TrustHeight int64  `json:"trust_height"`
	TrustHash   string `json:"trust_hash"`
	// TrustPeriod is how long a trusted header may be used: shorter than the
	// time within which a validator's misbehavior is punished. Default
	// "168h".
	TrustPeriod Duration `json:"trust_period,omitempty"`
}

// Duration is a time.Duration written as a string such as "100ms" in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// DefaultConfig returns the configuration of the embedded default node.
func DefaultConfig() Config {
	c := Config{}
	c.EnsureDefaults()
	return c
}

// EnsureDefaults fills every unset field with its default.
func (c *Config) EnsureDefaults() {
	if c.Moniker == "" {
		c.Moniker = "careledger"
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.P2PAddr == "" {
		c.P2PAddr = "127.0.0.1:26656"
	}
	if c.TimeoutCommit == 0 {
		c.TimeoutCommit = Duration(100 * time.Millisecond)
	}
	if c.EmptyBlockInterval == 0 {
		c.EmptyBlockInterval = Duration(3 * time.Second)
	}
	if c.MempoolSize == 0 {
		c.MempoolSize = 20000
	}
	if c.LogLevel == "" {
		c.LogLevel = "error"
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 1000
	}
	if c.SnapshotKeep == 0 {
		c.SnapshotKeep = 2
	}
	if c.StateSync != nil && c.StateSync.TrustPeriod == 0 {
		c.StateSync.TrustPeriod = Duration(168 * time.Hour)
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	for name, addr := range map[string]string{"http_addr": c.HTTPAddr, "p2p_addr": c.P2PAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("config %s %q: %w", name, addr, err)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("config metrics_addr %q: %w", c.MetricsAddr, err)
		}
		if _, port, _ := net.SplitHostPort(c.MetricsAddr); port != "0" && c.MetricsAddr == c.HTTPAddr {
			return fmt.Errorf("config metrics_addr %q: must differ from http_addr", c.MetricsAddr)
		}
	}
	if err := c.EventStreams.options().Validate(); err != nil {
		return fmt.Errorf("config event_streams: %w", err)
	}
	switch c.LogLevel {
	case "error", "info", "debug", "none":
	default:
		return fmt.Errorf("config log_level %q: want error, info, debug or none", c.LogLevel)
	}
	if c.TimeoutCommit < 0 || c.EmptyBlockInterval < 0 || c.MempoolSize < 0 || c.SnapshotKeep < 0 {
		return fmt.Errorf("config: durations and sizes must not be negative")
	}
	if ss := c.StateSync; ss != nil {
		if len(ss.RPCServers) == 0 || ss.TrustHeight <= 0 || ss.TrustPeriod <= 0 {
			return fmt.Errorf("config state_sync: rpc_servers, trust_height and trust_period are required")
		}
		if h, err := hex.DecodeString(ss.TrustHash); err != nil || len(h) != 32 {
			return fmt.Errorf("config state_sync trust_hash %q: want a block hash, 64 hex digits", ss.TrustHash)
		}
	}
	return nil
}

func configPath(home string) string { return filepath.Join(home, "config", "careledger.json") }

// LoadConfig reads a home's configuration and fills defaults.
func LoadConfig(home string) (Config, error) {
	var c Config
	b, err := os.ReadFile(configPath(home))
	if err != nil {
		return c, fmt.Errorf("read node config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse %s: %w", configPath(home), err)
	}
	c.EnsureDefaults()
	return c, c.Validate()
}

// SaveConfig writes a home's configuration.
func SaveConfig(home string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(configPath(home), append(b, '\n'), 0o644)
}
