package cli

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The temporary files of -o outputs are removed when the process is
// interrupted (Ctrl-C, or the SIGTERM of a CI timeout), so that no
// .NAME.tmp-* file outlives the run; the process then exits as a shell
// reports a death by that signal, 128 + its number (130, 143).
var temps tempFiles

type tempFiles struct {
	sync.Mutex
	names map[string]bool
	sigs  chan os.Signal
}

// interruptSignals are the signals that remove the temporary files.
var interruptSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// createTemp creates a temporary file as os.CreateTemp does, and removes it
// if the process is interrupted before forgetTemp.
func createTemp(dir, pattern string) (*os.File, error) {
	temps.Lock()
	defer temps.Unlock()
	// the signals are caught before the file exists
	if temps.sigs == nil {
		temps.sigs = make(chan os.Signal, 1)
		signal.Notify(temps.sigs, interruptSignals...)
		go removeTempsOnSignal(temps.sigs)
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		temps.stopIfIdle()
		return nil, err
	}
	if temps.names == nil {
		temps.names = map[string]bool{}
	}
	temps.names[f.Name()] = true
	return f, nil
}

// forgetTemp stops watching over name: it was renamed or removed. When no
// file is left, the signals get back their default action.
func forgetTemp(name string) {
	temps.Lock()
	defer temps.Unlock()
	delete(temps.names, name)
	temps.stopIfIdle()
}

// stopIfIdle gives the signals back their default action when no file is
// left to remove; temps is locked.
func (t *tempFiles) stopIfIdle() {
	if len(t.names) == 0 && t.sigs != nil {
		signal.Stop(t.sigs)
		close(t.sigs)
		t.sigs = nil
	}
}

func removeTempsOnSignal(sigs chan os.Signal) {
	sig, ok := <-sigs
	if !ok {
		return
	}
	// The lock is kept: no file is created or renamed after this.
	temps.Lock()
	for name := range temps.names {
		os.Remove(name)
	}
	code := 128 + 2
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code)
}
