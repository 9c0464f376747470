package verify

import (
	"fmt"
	"strings"
)

// Damage is a part of a home that does not verify: what is wrong and what
// to do about it. Problem names offsets, heights, keys and record numbers,
// never stored content.
type Damage struct {
	Part    string // the store or file, relative to the home
	Problem string
	Remedy  string // what a restart does with it, or what the operator does
}

func (d Damage) String() string {
	s := d.Part + ": " + d.Problem
	if d.Remedy != "" {
		s += " (" + d.Remedy + ")"
	}
	return s
}

// Damaged is the error of a home with damaged parts.
type Damaged []Damage

func (ds Damaged) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	if len(ds) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%d parts damaged:\n  %s", len(ds), strings.Join(lines, "\n  "))
}

// What an operator does with each damaged part.
const (
	remedyRebuild = "careledger rebuild remakes it from the block store"
	remedyBackup  = "restore the home from a backup, or sync a new node from the network"
	remedyConfig  = "restore the file from a backup"
)
