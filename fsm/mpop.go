package fsm

// mpopCommands are the pops that take from the first non-empty of several
// keys: LMPOP, BLMPOP, ZMPOP, BZMPOP (Redis 7.0).
func mpopCommands() []Command { return nil }
