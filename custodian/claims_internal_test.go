package custodian

import "testing"

func TestPartialDate(t *testing.T) {
	for in, want := range map[string]uint32{"1970": 19700101, "1970-05": 19700501, "1970-05-17": 19700517, "": 0, "70": 0, "1970-13-01": 0, "abcd-ef-gh": 0} {
		if got := partialDate(in); got != want {
			t.Errorf("partialDate(%q) = %d; want %d", in, got, want)
		}
	}
}
