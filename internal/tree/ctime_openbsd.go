package tree

import "syscall"

// statCtime exists because syscall.Stat_t names its time fields per system.
func statCtime(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }
