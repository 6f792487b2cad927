"""Joint visits (综合查一次, 进一次门、查多项事): see inspect_kit.joint.core and .service."""
