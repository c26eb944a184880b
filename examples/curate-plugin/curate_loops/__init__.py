"""An example curate plugin: filters that live outside curate, found through the `curate.filters` entry point
group or by dotted path."""
