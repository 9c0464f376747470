package schedule_test

import (
	"fmt"
	"testing"

	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

// BenchmarkBook measures bookings executed in process, each in its own
// branch of the state as a transaction's messages are: booking free slots,
// patients racing 8 or a hundred to a slot (one wins, the others are refused),
// and beside them the baseline, ledger/send of the same amount from the
// same patients (a message that moves the same money and touches no slot).
func BenchmarkBook(b *testing.B) {
	const patients = 1_000
	setup := func(b *testing.B, slots int) *chain {
		ch := newChain(b, schedule.Describe())
		ch.must(clinicAdmin, gp)
		for i := 0; i < slots; i += schedule.MaxSlots {
			open := schedule.OpenSlots{Provider: clinic, Schedule: "gp"}
			for j := i; j < min(i+schedule.MaxSlots, slots); j++ {
				open.Slots = append(open.Slots, schedule.SlotSpec{Start: at(48) + int64(j)*60, Minutes: 1})
			}
			ch.must(clinicAdmin, open)
		}
		for i := range patients {
			p := fmt.Sprintf("bench-%04d", i)
			ch.runOK(identityContract(), p, registerPatient())
			if err := ledger.Credit(ch.s, ledger.Patient(addr(p)), ledger.MaxAmount/patients, ledger.Memo{}); err != nil {
				b.Fatal(err)
			}
		}
		return ch
	}
	name := func(i int) string { return fmt.Sprintf("bench-%04d", i%patients) }
	b.Run("baseline-send", func(b *testing.B) {
		ch := setup(b, 0)
		l := ledger.Describe()
		b.ResetTimer()
		for i := range b.N {
			ch.runOK(&l, name(i), ledger.Send{ToOrg: clinic, Amount: gp.Deposit})
		}
	})
	b.Run("free-slots", func(b *testing.B) {
		ch := setup(b, b.N)
		b.ResetTimer()
		for i := range b.N {
			ch.must(name(i), book(name(i), at(48)+int64(i)*60))
		}
	})
	for _, racers := range []int{8, 100} { // 8: as careledger bench --workload bookings
		b.Run(fmt.Sprintf("race-%d-per-slot", racers), func(b *testing.B) {
			ch := setup(b, b.N/racers+1)
			b.ResetTimer()
			for i := range b.N {
				if code := ch.exec(name(i), book(name(i), at(48)+int64(i/racers)*60)); code != tx.CodeOK && code != tx.CodeAlreadyExists {
					b.Fatalf("booking = %v", code)
				}
			}
		})
	}
}
