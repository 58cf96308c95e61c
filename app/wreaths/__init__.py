"""The wreath-laying order."""
