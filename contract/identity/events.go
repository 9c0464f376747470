package identity

// The identity contract's event types.
const (
	EventPatientRegistered = "identity.patient_registered"
	EventMemberRegistered  = "identity.member_registered"
	EventMemberRolesSet    = "identity.member_roles_set"
	EventMemberSuspended   = "identity.member_suspended"
	EventMemberReinstated  = "identity.member_reinstated"
	EventKeyRotated        = "identity.key_rotated"
	EventDelegateSet       = "identity.delegate_set"
	EventDelegateRemoved   = "identity.delegate_removed"
	EventGuardiansSet      = "identity.guardians_set"
	EventGuardiansRemoved  = "identity.guardians_removed"
	EventRecoveryProposed  = "identity.recovery_proposed"
	EventRecoveryApproved  = "identity.recovery_approved"
	EventRecoveryCancelled = "identity.recovery_cancelled"
	EventRecoveryCompleted = "identity.recovery_completed"
	EventDeviceSet         = "identity.device_set"
	EventDeviceRemoved     = "identity.device_removed"
)
