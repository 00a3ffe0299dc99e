"""The admin blueprint: school registry and comparison values."""
