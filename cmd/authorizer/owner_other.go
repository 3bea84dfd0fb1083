//go:build !unix

package main

import "io/fs"

// ownedByOther: file owners are not checked on this system.
func ownedByOther(fs.FileInfo) bool { return false }

// writableByOthers: Unix modes mean nothing here (a directory reports 0777).
func writableByOthers(fs.FileInfo) bool { return false }
