package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/dataset"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/fhirapi"
	"github.com/careledger/careledger/tx"
)

// trialFlags are the flags of the trial commands; each command defines
// those it uses.
type trialFlags struct {
	trial, sponsor, board, study, protocol, sap *string
	primary, secondary, outcomes, participants  *string
	dataset                                     *string
	version                                     *uint64
}

// trialsCommands are the `careledger tx trial-…` commands: the trials
// contract's messages, with the commitments computed from the files.
func trialsCommands() []txCommand {
	var f trialFlags
	trialFlag := func(fs *flag.FlagSet) { f.trial = fs.String("trial", "", "the trial's ID (required)") }
	versionFlag := func(fs *flag.FlagSet) {
		trialFlag(fs)
		f.version = fs.Uint64("version", 0, "the protocol version (required)")
	}
	planFlags := func(fs *flag.FlagSet) {
		trialFlag(fs)
		f.protocol = fs.String("protocol", "", "the protocol document (required)")
		f.sap = fs.String("sap", "", "the statistical analysis plan (required)")
		f.primary = fs.String("primary", "", "comma-separated primary outcome IDs (required)")
		f.secondary = fs.String("secondary", "", "comma-separated secondary outcome IDs")
	}
	return []txCommand{
		{name: "trial-register",
			flags: func(fs *flag.FlagSet) {
				planFlags(fs)
				f.sponsor = fs.String("sponsor", "", "the sponsor organization, of type research (required)")
				f.board = fs.String("board", "", "the ethics board organization (required)")
				f.study = fs.String("study", "", "the FHIR ResearchStudy, JSON (required)")
			},
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				var m trials.Register
				err := commitFiles(fileCommit{*f.protocol, &m.Protocol}, fileCommit{*f.sap, &m.SAP})
				if err == nil {
					m.Study, err = studyCommitment(*f.study, *f.trial)
				}
				m.Trial, m.Sponsor, m.Board = *f.trial, *f.sponsor, *f.board
				m.Primary, m.Secondary = outcomeList(*f.primary), outcomeList(*f.secondary)
				return msgs(m), err
			}},
		{name: "trial-amend", flags: planFlags,
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				m := trials.Amend{Trial: *f.trial, Primary: outcomeList(*f.primary), Secondary: outcomeList(*f.secondary)}
				err := commitFiles(fileCommit{*f.protocol, &m.Protocol}, fileCommit{*f.sap, &m.SAP})
				return msgs(m), err
			}},
		{name: "trial-approve", flags: versionFlag,
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				return msgs(trials.Approve{Trial: *f.trial, Version: *f.version}), nil
			}},
		{name: "trial-consent", flags: versionFlag,
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				return msgs(trials.Consent{Trial: *f.trial, Version: *f.version}), nil
			}},
		{name: "trial-enroll", argsUsage: "PARTICIPANT", nargs: 1, flags: trialFlag,
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				p, err := parseAddressArg(fs)
				return msgs(trials.Enroll{Trial: *f.trial, Participant: p}), err
			}},
		{name: "trial-withdraw", argsUsage: "PARTICIPANT", nargs: 1, flags: trialFlag,
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				p, err := parseAddressArg(fs)
				return msgs(trials.Withdraw{Trial: *f.trial, Participant: p}), err
			}},
		{name: "trial-commit-data", argsUsage: "FILE", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				versionFlag(fs)
				f.dataset = fs.String("dataset", "", "the dataset's ID (required)")
				f.participants = fs.String("participants", "", "comma-separated addresses of the participants it holds data of (required)")
			},
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				m := trials.CommitData{Trial: *f.trial, Dataset: *f.dataset, Version: *f.version}
				file, err := os.Open(fs.Arg(0))
				if err != nil {
					return nil, err
				}
				root, rows, err := dataset.Root(file)
				file.Close()
				if err != nil {
					return nil, err
				}
				m.Root, m.Rows = [32]byte(root), rows
				for _, s := range outcomeList(*f.participants) {
					a, err := tx.ParseAddress(s)
					if err != nil {
						return nil, usageError(err.Error())
					}
					m.Participants = append(m.Participants, a)
				}
				slices.SortFunc(m.Participants, func(a, b tx.Address) int { return bytes.Compare(a[:], b[:]) })
				return msgs(m), nil
			}},
		{name: "trial-results", argsUsage: "FILE", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				trialFlag(fs)
				f.outcomes = fs.String("outcomes", "", "comma-separated IDs of the outcomes it reports (required)")
			},
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				m := trials.Report{Trial: *f.trial, Outcomes: outcomeList(*f.outcomes)}
				err := commitFiles(fileCommit{fs.Arg(0), &m.Result})
				return msgs(m), err
			}},
	}
}

// studyCommitment returns the commitment to the ResearchStudy in file as
// POST /fhir/ResearchStudy checks it (fhirapi.StudyCommitment: its canonical
// JSON with id the trial's), so that the sponsor's node can keep the
// document of a trial registered here.
func studyCommitment(path, trial string) ([32]byte, error) {
	if path == "" {
		return [32]byte{}, usageError("--study is missing (see -h)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, err
	}
	r, err := fhir.Parse(b)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%s: %w", path, err)
	}
	return fhirapi.StudyCommitment(r, trial)
}

// outcomeList splits a comma-separated list into its canonical order:
// sorted, without duplicates.
func outcomeList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// fileCommit is a document file and the commitment to set from it.
type fileCommit struct {
	path string
	c    *[32]byte
}

// commitFiles sets each commitment to that of its file: the SHA-256 of the
// canonical JSON of a FHIR resource, else of the file's bytes (a PDF
// protocol).
func commitFiles(files ...fileCommit) error {
	for _, f := range files {
		path, c := f.path, f.c
		if path == "" {
			return usageError("a document file is missing (see -h)")
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if r, err := fhir.Parse(b); err == nil {
			b = r.Canonical()
		}
		*c = sha256.Sum256(b)
	}
	return nil
}
