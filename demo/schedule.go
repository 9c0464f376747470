package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// The demo's appointments: each hospital publishes a schedule and opens
// free slots on the next SlotDays days, and the demo payer funds a reward
// program that rewards patients for attended check-ups, held for them to
// redeem against co-pays at the payer. Times come from the seeding
// machine's clock: the demo is a client, not a contract.
const (
	// SlotDays is how many days ahead, from tomorrow, slots are open.
	SlotDays = 3
	// SlotMinutes is the length of every demo slot.
	SlotMinutes = 30
	// RewardProgram is the demo payer's program for attended check-ups.
	RewardProgram = "demo-checkups"
	// RewardFunding is what the payer moves into the program's pool, in
	// minor units (1,000.00).
	RewardFunding = 100_000
	// RewardAmount is what one attended appointment pays a patient
	// (10.00), and RewardPatientCap the most one patient receives (30.00).
	RewardAmount     = 1_000
	RewardPatientCap = 3_000
	// RewardDays is how long the program runs after seeding.
	RewardDays = 365
)

// SlotHours are the UTC hours of the day at which demo slots start.
var SlotHours = []int{9, 10, 14}

// Schedules are the demo hospitals' schedules: check-ups at Mercy with no
// deposit, and specialist visits at Lakeside that hold a 20.00 deposit,
// half kept on a cancellation less than a day ahead and all on a no-show.
var Schedules = []schedule.Publish{
	{Provider: Host.ID, Schedule: "checkups", Category: "primary-care", CancelBefore: 3600},
	{Provider: "lakeside-clinic", Schedule: "specialist", Category: "specialist", Deposit: 2_000,
		CancelBefore: 24 * 3600, LateCancelKeep: 5_000, NoShowKeep: 10_000},
}

// Program returns the demo reward program, ending RewardDays after now: a
// reward for each attended appointment that a provider attests, within the
// caps, held in the program's pool until the patient redeems it to the
// payer (against a co-pay), the only organization it names.
func Program(now time.Time) rewards.Create {
	return rewards.Create{
		Sponsor: Payer, Program: RewardProgram, Funding: RewardFunding, PatientCap: RewardPatientCap,
		End:      now.Add(RewardDays * 24 * time.Hour).Unix(),
		Rules:    []rewards.Rule{{Event: "attended", Amount: RewardAmount, Attesters: []string{string(identity.Provider)}}},
		RedeemTo: []string{Payer},
	}
}

// DemoSlots returns the slots the demo opens on each schedule: SlotHours
// of each of the SlotDays days after now's day (UTC).
func DemoSlots(now time.Time) []schedule.SlotSpec {
	day := now.UTC().Truncate(24 * time.Hour)
	var out []schedule.SlotSpec
	for d := 1; d <= SlotDays; d++ {
		for _, h := range SlotHours {
			start := day.Add(time.Duration(d*24+h) * time.Hour)
			out = append(out, schedule.SlotSpec{Start: start.Unix(), Minutes: SlotMinutes})
		}
	}
	return out
}

// seedSchedules publishes the demo schedules and opens their slots, each
// unless it is published already, and creates the reward program unless
// it exists.
func seedSchedules(ctx context.Context, c *client.Client, dir keys.Dir, now time.Time) error {
	for _, p := range Schedules {
		admin, err := dir.Load(adminKey(p.Provider), nil)
		if err != nil {
			return fmt.Errorf("demo admin key: %w", err)
		}
		tok, err := c.Token(ctx, admin)
		if err != nil {
			return err
		}
		if _, err := c.Slots(ctx, tok, p.Provider, p.Schedule); err == nil {
			continue
		} else if !client.IsCode(err, tx.CodeNotFound) {
			return err
		}
		open := schedule.OpenSlots{Provider: p.Provider, Schedule: p.Schedule, Slots: DemoSlots(now)}
		if _, err := c.Send(ctx, admin, contract.Encode(p), contract.Encode(open)); err != nil {
			return fmt.Errorf("demo schedule %s of %s: %w", p.Schedule, p.Provider, err)
		}
	}
	admin, err := dir.Load(adminKey(Payer), nil)
	if err != nil {
		return fmt.Errorf("demo admin key: %w", err)
	}
	tok, err := c.Token(ctx, admin)
	if err != nil {
		return err
	}
	if _, err := c.Program(ctx, tok, RewardProgram); err == nil {
		return nil
	} else if !client.IsCode(err, tx.CodeNotFound) {
		return err
	}
	if _, err := c.Send(ctx, admin, contract.Encode(Program(now))); err != nil {
		return fmt.Errorf("demo reward program: %w", err)
	}
	return nil
}
