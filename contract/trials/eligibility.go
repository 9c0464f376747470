package trials

import (
	"reflect"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/careledger/careledger/contract/condition"
)

// Bounds of the eligibility environment's inputs. A custodian computes them
// from its records and cuts each list at its bound (recruit.Attributes): the
// cost estimate the chain checks a rule against relies on them.
const (
	MaxCodes     = 256 // condition or medication codes of one patient
	MaxLabs      = 64  // recent lab results of one patient
	MaxCodeLen   = 64  // one code, or one "CODE=VALUE" lab entry
	maxBandLen   = 16
	CriteriaCost = 10_000 // the cost limit of an eligibility rule
)

// AgeBands are the values of age_band: an age never leaves a custodian
// finer than this.
var AgeBands = []string{"0-17", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"}

// EligibilityEnv is what a trial's eligibility rule sees: the coarse
// attributes a custodian computes from one patient's records, off the
// chain. The chain only checks that a rule compiles and costs at most
// CriteriaCost; it never evaluates one, and never sees these values.
//
//	age_band     string        one of AgeBands
//	sex          string        FHIR administrative gender: female, male, other, unknown
//	conditions   list(string)  codes of the patient's Conditions (SNOMED CT, ICD-10, ...)
//	medications  list(string)  codes of the patient's MedicationRequests and MedicationStatements (RxNorm, ...)
//	labs         list(string)  recent lab results as "LOINC=VALUE", the latest per code
//
// and the function lab_in_range(labs, code, low, high), true when labs
// holds a result for code with low <= value <= high.
var EligibilityEnv = condition.MustNewEnv(condition.EnvOptions{
	Name: "eligibility",
	Vars: []condition.Var{
		{Name: "age_band", Type: condition.String, MaxSize: maxBandLen},
		{Name: "sex", Type: condition.String, MaxSize: maxBandLen},
		{Name: "conditions", Type: condition.List(condition.String), MaxSize: MaxCodes, MaxItemSize: MaxCodeLen},
		{Name: "medications", Type: condition.List(condition.String), MaxSize: MaxCodes, MaxItemSize: MaxCodeLen},
		{Name: "labs", Type: condition.List(condition.String), MaxSize: MaxLabs, MaxItemSize: MaxCodeLen},
	},
	Functions: []condition.Function{{
		Name: "lab_in_range",
		Overloads: []cel.FunctionOpt{cel.Overload("lab_in_range_list_string_double_double",
			[]*cel.Type{cel.ListType(cel.StringType), cel.StringType, cel.DoubleType, cel.DoubleType}, cel.BoolType,
			cel.FunctionBinding(labInRange))},
	}},
})

// labInRange is lab_in_range's binding: a function of its arguments alone,
// whose work is bounded by MaxLabs.
func labInRange(args ...ref.Val) ref.Val {
	code, _ := args[1].Value().(string)
	low, _ := args[2].Value().(float64)
	high, _ := args[3].Value().(float64)
	labs, err := args[0].ConvertToNative(sliceOfStrings)
	if err != nil {
		return types.False
	}
	for _, l := range labs.([]string) {
		c, v, ok := strings.Cut(l, "=")
		if !ok || c != code {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		return types.Bool(err == nil && low <= x && x <= high)
	}
	return types.False
}

var sliceOfStrings = reflect.TypeOf([]string(nil))

// Eligibility is one patient's attributes, the activation of
// EligibilityEnv.
type Eligibility struct {
	AgeBand     string   `json:"age_band"`
	Sex         string   `json:"sex"`
	Conditions  []string `json:"conditions"`
	Medications []string `json:"medications"`
	Labs        []string `json:"labs"`
}

// ResolveName resolves EligibilityEnv's variables.
func (e *Eligibility) ResolveName(name string) (any, bool) {
	switch name {
	case "age_band":
		return e.AgeBand, true
	case "sex":
		return e.Sex, true
	case "conditions":
		return e.Conditions, true
	case "medications":
		return e.Medications, true
	case "labs":
		return e.Labs, true
	}
	return nil, false
}

// CheckCriteria reports whether rule is a valid eligibility rule.
func CheckCriteria(engine *condition.Engine, rule string) error {
	return engine.Check(EligibilityEnv, rule, CriteriaCost)
}

// Eligible evaluates rule over one patient's attributes, off the chain.
func Eligible(engine *condition.Engine, rule string, e *Eligibility) (bool, error) {
	return engine.Eval(EligibilityEnv, rule, CriteriaCost, e)
}
