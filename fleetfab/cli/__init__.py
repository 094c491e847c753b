"""What the `fab` tasks call: each command returns the process exit code."""
