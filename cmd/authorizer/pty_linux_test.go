package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// pty is a pseudo-terminal: the test holds the master, the command runs
// with the slave as its controlling terminal (its /dev/tty).
type pty struct {
	master, slave *os.File
	out           chan string // what the command wrote to the terminal, piece by piece
}

// openPTY opens a pseudo-terminal with the standard library only. A
// goroutine copies the master's output to out until the master is closed
// (at the test's end).
func openPTY(t *testing.T) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var n uint32
	var unlock int32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("open slave: %v", err)
	}
	p := &pty{master: m, slave: s, out: make(chan string, 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1024)
		for {
			k, err := m.Read(buf)
			if k > 0 {
				p.out <- string(buf[:k])
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.Close()
		m.Close() // the master is pollable: this ends the read
		for {
			select {
			case <-p.out:
			case <-done:
				return
			}
		}
	})
	return p
}

// waitFor reads the terminal's output until it contains want, or the
// command exited (exited is closed).
func (p *pty) waitFor(t *testing.T, want string, exited <-chan struct{}) {
	t.Helper()
	var seen strings.Builder
	for !strings.Contains(seen.String(), want) {
		select {
		case s := <-p.out:
			seen.WriteString(s)
		case <-exited:
			t.Fatalf("the command exited before writing %q to the terminal (it wrote %q)", want, seen.String())
		}
	}
}

// echo reports whether the terminal echoes what is typed.
func (p *pty) echo(t *testing.T) bool {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(p.slave, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatalf("tcgetattr: %v", err)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// ioctl runs one ioctl on f without making f blocking (as Fd would).
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
