package main

// notes closes results.md: how each figure is measured.
const notes = `
## How each figure is measured

TODO
`
